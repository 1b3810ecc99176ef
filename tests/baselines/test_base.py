"""What the oracle baselines share: they refuse missing or unknown training groups."""

import numpy as np
import pytest
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression

from jtt_sklearn.baselines import GroupBalancedClassifier, GroupDROClassifier

from .._fixtures import noisy_rows, shortcut_data


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




@pytest.mark.parametrize("bad", [np.nan, -1.0], ids=["nan", "minus-one-float"])
def test_oracles_refuse_nan_and_float_unknown_training_groups(bad):
    X, y = noisy_rows()
    groups = (2 * y + (X[:, 1] > 0)).astype(np.float64)
    groups[7] = bad
    with pytest.raises(ValueError, match="NaN|unknown group"):
        GroupBalancedClassifier(LogisticRegression()).fit(X, y, group_labels=groups)
