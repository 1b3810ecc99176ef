"""GroupBalancedClassifier: an oracle that upsamples every training group to the size of the largest."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from jtt_sklearn.baselines import GroupBalancedClassifier, group_balancing_multiplicity

from .._fixtures import shortcut_data


def test_group_balancing_multiplicity_equalises_group_sizes():
    groups = np.repeat([0, 1, 2], [90, 10, 30])
    counts = np.bincount(groups, weights=group_balancing_multiplicity(groups))
    np.testing.assert_array_equal(counts, [90, 90, 90])


def test_group_balanced_upsampling_improves_the_worst_group():
    X, y, g = shortcut_data()
    erm = LogisticRegression().fit(X, y)
    balanced = GroupBalancedClassifier(LogisticRegression()).fit(X, y, group_labels=g)
    worst = lambda model: min(np.mean(model.predict(X[g == k]) == y[g == k]) for k in range(4))
    assert worst(balanced) > worst(erm) + 0.1
    np.testing.assert_array_equal(balanced.classes_, [0, 1])
