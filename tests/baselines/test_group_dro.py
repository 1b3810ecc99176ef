"""Group DRO: the loss upweights the group with the highest loss; the classifier wraps a skorch net."""

import numpy as np
import pytest
import torch
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from skorch import NeuralNetClassifier

from jtt_sklearn.baselines import (
    GroupDROClassifier,
    GroupDROLoss,
)

from .._fixtures import noisy_rows, shortcut_data
from .._nets import make_net


def test_group_dro_loss_upweights_the_group_with_the_highest_loss():
    loss = GroupDROLoss(n_groups=2, eta=1.0)
    logits = torch.tensor([[5.0, 0.0], [5.0, 0.0], [5.0, 0.0]])
    target = torch.tensor([[0, 0], [0, 0], [1, 1]])  # group 1 is misclassified
    loss.train()
    value = loss(logits, target)
    weights = loss.group_weights
    assert weights[1] > weights[0] and torch.isclose(weights.sum(), torch.tensor(1.0))
    group_losses = torch.stack(
        [
            torch.nn.functional.cross_entropy(logits[:2], target[:2, 0]),
            torch.nn.functional.cross_entropy(logits[2:], target[2:, 0]),
        ]
    )
    torch.testing.assert_close(value, (weights * group_losses).sum())
    loss.eval()
    before = weights.clone()
    loss(logits, target)
    torch.testing.assert_close(loss.group_weights, before)  # no update outside training


def test_group_dro_net_trains_predicts_labels_and_probabilities():
    X, y, g = shortcut_data()
    labels = np.array(["no", "yes"])[y]
    clf = GroupDROClassifier(make_net(max_epochs=10, lr=0.1), eta=0.1, random_state=0)
    clf.fit(X, labels, group_labels=g)
    assert set(clf.predict(X)) <= {"no", "yes"}
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert clf.group_weights_.shape == (4,)
    again = GroupDROClassifier(make_net(max_epochs=10, lr=0.1), eta=0.1, random_state=0).fit(
        X, labels, group_labels=g
    )
    np.testing.assert_allclose(again.predict_proba(X), proba)




def test_group_dro_with_skorchs_stratified_default_split_says_what_to_set():
    X, y = noisy_rows()
    net = NeuralNetClassifier(torch.nn.Linear, module__in_features=4, module__out_features=2, verbose=0)
    with pytest.raises(ValueError, match="train_split=None"):
        GroupDROClassifier(net).fit(X, y, group_labels=2 * y + (X[:, 1] > 0))
