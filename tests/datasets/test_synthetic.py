"""make_spurious_features: core, spurious and noise features with a worst-group gap."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from jtt_sklearn.datasets import make_spurious_features

from .._fixtures import aligned_share, check_layout, per_group_accuracy


def test_make_spurious_features_layout_and_gap():
    splits = make_spurious_features(n_train=1000, n_validation=202, n_test=1000)
    check_layout(splits)
    assert splits.train.X.shape == (1000, 110) and splits.train.X.dtype == np.float32
    assert splits.feature_names[0] == "core_0" and splits.feature_names[-1] == "noise_99"
    assert abs(aligned_share(splits.train) - 0.95) < 0.01
    counts = np.bincount(splits.validation.group_labels, minlength=4)
    assert counts.sum() == 202 and counts.max() - counts.min() <= 1
    model = LogisticRegression(max_iter=1000).fit(splits.train.X, splits.train.y)
    average, per_group = per_group_accuracy(model, splits.test)
    assert min(per_group) < average - 0.1


def test_make_spurious_features_is_deterministic_and_checks_input():
    a = make_spurious_features(n_train=50, n_validation=8, n_test=8, random_state=1)
    b = make_spurious_features(n_train=50, n_validation=8, n_test=8, random_state=1)
    np.testing.assert_array_equal(a.test.X, b.test.X)
    with pytest.raises(ValueError, match="n_core_features"):
        make_spurious_features(n_core_features=0)
    with pytest.raises(ValueError, match="core_noise"):
        make_spurious_features(core_noise=-1)
