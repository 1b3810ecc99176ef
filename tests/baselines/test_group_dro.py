"""Group DRO: the loss upweights the group with the highest loss; the classifier wraps a skorch net."""

import numpy as np
import pytest
import torch
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset, ValidSplit
from skorch.helper import predefined_split

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


@pytest.mark.parametrize(
    "train_split",
    [
        # Not stratified: used to fail after an epoch in skorch's accuracy scoring ("a mix of
        # multiclass-multioutput and binary targets").
        ValidSplit(5),
        ValidSplit(0.2),
        ValidSplit(5, stratified=True),
        # A validation set of plain labels used to fail in the loss (IndexError), one of pairs in
        # the scoring.
        predefined_split(Dataset(np.zeros((8, 2), dtype=np.float32), np.array([0, 1] * 4))),
    ],
    ids=["ValidSplit(5)", "ValidSplit(0.2)", "stratified", "predefined_split"],
)
@pytest.mark.parametrize("in_pipeline", [False, True])
def test_group_dro_refuses_any_internal_split(train_split, in_pipeline):
    """Every internal validation split would split the (label, group) pairs: refused, saying what to set."""
    X, y, g = shortcut_data()
    net = make_net(train_split=train_split, max_epochs=2)
    base, prefix = (net, "")
    if in_pipeline:
        base, prefix = make_pipeline(StandardScaler(), net), "neuralnetclassifier__"
    with pytest.raises(ValueError, match=f"pairs.*Set {prefix}train_split=None, and score"):
        GroupDROClassifier(base, random_state=0).fit(X, y, group_labels=g)


def test_group_dro_with_skorchs_stratified_default_split_says_what_to_set():
    X, y = noisy_rows()
    net = NeuralNetClassifier(torch.nn.Linear, module__in_features=4, module__out_features=2, verbose=0)
    with pytest.raises(ValueError, match="train_split=None"):
        GroupDROClassifier(net).fit(X, y, group_labels=2 * y + (X[:, 1] > 0))
