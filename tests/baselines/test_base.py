"""What the oracle baselines share: they refuse missing or unknown training groups."""

import pytest
from sklearn.linear_model import LogisticRegression

from jtt_sklearn.baselines import GroupBalancedClassifier, GroupDROClassifier

from .._fixtures import shortcut_data


def test_oracles_refuse_missing_or_unknown_training_groups():
    X, y, g = shortcut_data(n=50)
    with pytest.raises(ValueError, match="oracle"):
        GroupBalancedClassifier(LogisticRegression()).fit(X, y, group_labels=None)
    unknown = g.copy()
    unknown[0] = -1
    with pytest.raises(ValueError, match="unknown group"):
        GroupBalancedClassifier(LogisticRegression()).fit(X, y, group_labels=unknown)
    with pytest.raises(ValueError, match="skorch net"):
        GroupDROClassifier(LogisticRegression()).fit(X, y, group_labels=g)
