"""Oracle baselines: group-balanced upsampling and Group DRO."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from jtt_sklearn.baselines import (
    GroupBalancedClassifier,
    GroupDROClassifier,
    GroupDROLoss,
    group_balancing_multiplicity,
)

from ._nets import make_net


def _shortcut_data(n=400, seed=0):
    """Label follows feature 0 weakly, and a spurious feature 1 strongly in 95% of rows."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n)
    attribute = np.where(rng.rand(n) < 0.95, y, 1 - y)
    X = np.column_stack([y + rng.normal(0, 1.0, n), attribute + rng.normal(0, 0.1, n)]).astype(np.float32)
    return X, y, 2 * y + attribute


def test_group_balancing_multiplicity_equalises_group_sizes():
    groups = np.repeat([0, 1, 2], [90, 10, 30])
    counts = np.bincount(groups, weights=group_balancing_multiplicity(groups))
    np.testing.assert_array_equal(counts, [90, 90, 90])


def test_group_balanced_upsampling_improves_the_worst_group():
    X, y, g = _shortcut_data()
    erm = LogisticRegression().fit(X, y)
    balanced = GroupBalancedClassifier(LogisticRegression()).fit(X, y, group_labels=g)
    worst = lambda model: min(np.mean(model.predict(X[g == k]) == y[g == k]) for k in range(4))
    assert worst(balanced) > worst(erm) + 0.1
    np.testing.assert_array_equal(balanced.classes_, [0, 1])


def test_oracles_refuse_missing_or_unknown_training_groups():
    X, y, g = _shortcut_data(n=50)
    with pytest.raises(ValueError, match="oracle"):
        GroupBalancedClassifier(LogisticRegression()).fit(X, y, group_labels=None)
    unknown = g.copy()
    unknown[0] = -1
    with pytest.raises(ValueError, match="unknown group"):
        GroupBalancedClassifier(LogisticRegression()).fit(X, y, group_labels=unknown)
    with pytest.raises(ValueError, match="skorch net"):
        GroupDROClassifier(LogisticRegression()).fit(X, y, group_labels=g)


def test_group_dro_loss_upweights_the_group_with_the_highest_loss():
    loss = GroupDROLoss(n_groups=2, eta=1.0)
    logits = torch.tensor([[5.0, 0.0], [5.0, 0.0], [5.0, 0.0]])
    target = torch.tensor([[0, 0], [0, 0], [1, 1]])  # group 1 is misclassified
    loss.train()
    value = loss(logits, target)
    weights = loss.group_weights
    assert weights[1] > weights[0] and torch.isclose(weights.sum(), torch.tensor(1.0))
    group_losses = torch.stack([torch.nn.functional.cross_entropy(logits[:2], target[:2, 0]),
                                torch.nn.functional.cross_entropy(logits[2:], target[2:, 0])])
    torch.testing.assert_close(value, (weights * group_losses).sum())
    loss.eval()
    before = weights.clone()
    loss(logits, target)
    torch.testing.assert_close(loss.group_weights, before)  # no update outside training


def test_group_dro_net_trains_predicts_labels_and_probabilities():
    X, y, g = _shortcut_data()
    labels = np.array(["no", "yes"])[y]
    clf = GroupDROClassifier(make_net(max_epochs=10, lr=0.1), eta=0.1, random_state=0)
    clf.fit(X, labels, group_labels=g)
    assert set(clf.predict(X)) <= {"no", "yes"}
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert clf.group_weights_.shape == (4,)
    again = GroupDROClassifier(make_net(max_epochs=10, lr=0.1), eta=0.1, random_state=0).fit(X, labels, group_labels=g)
    np.testing.assert_allclose(again.predict_proba(X), proba)
