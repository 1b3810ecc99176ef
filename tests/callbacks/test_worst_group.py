"""WorstGroupScoring: worst-group validation accuracy each epoch, for checkpoints and early stopping."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, Checkpoint, EarlyStopping, LoadInitState

from jtt_sklearn.callbacks import WorstGroupScoring
from jtt_sklearn.metrics import group_accuracies, worst_group_accuracy

NAME = "valid_worst_group"


class MLP(torch.nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2)
        )

    def forward(self, X):
        return self.layers(X)


class RecordPredictions(Callback):
    """Keep the validation predictions of every epoch, to check by hand."""

    def __init__(self, X):
        self.X = X

    def initialize(self):
        self.predictions_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.predictions_.append(net.predict(self.X))


def make_data(n_samples=300, seed=0):
    """A spurious second feature that agrees with y on 90 % of rows."""
    rng = np.random.RandomState(seed)
    y = rng.randint(2, size=n_samples)
    attribute = np.where(rng.rand(n_samples) < 0.9, y, 1 - y)
    X = np.column_stack([y + rng.normal(scale=1.0, size=n_samples), 2 * attribute - 1]).astype(np.float32)
    groups = 2 * y + attribute
    return X, y.astype(np.int64), groups


def make_net(callbacks, max_epochs=8, **kwargs):
    return NeuralNetClassifier(
        MLP,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.SGD,
        lr=0.05,
        batch_size=32,
        max_epochs=max_epochs,
        train_split=None,
        verbose=0,
        callbacks=callbacks,
        **kwargs,
    )


@pytest.fixture
def data():
    X, y, groups = make_data()
    return X[:200], y[:200], X[200:], y[200:], groups[200:]


def test_history_matches_worst_group_accuracy_of_each_epoch(data):
    X_train, y_train, X_val, y_val, groups_val = data
    recorder = RecordPredictions(X_val)
    torch.manual_seed(0)
    net = make_net([WorstGroupScoring(X_val, y_val, groups_val), recorder])
    net.fit(X_train, y_train)

    assert len(net.history) == 8
    best_so_far = -np.inf
    for row, y_pred in zip(net.history, recorder.predictions_):
        expected = worst_group_accuracy(y_val, y_pred, group_labels=groups_val)
        assert row[NAME] == expected
        assert row[f"{NAME}_best"] is (expected > best_so_far)
        best_so_far = max(best_so_far, expected)
        per_group = group_accuracies(y_val, y_pred, group_labels=groups_val)
        for group, result in per_group.items():
            assert row[f"{NAME}_g{group}"] == result.accuracy
    assert dict(net.callbacks_)["WorstGroupScoring"].best_score_ == best_so_far
    # Worst-group accuracy changes during training, so selection matters.
    assert len(set(net.history[:, NAME])) > 1


def test_checkpoint_restores_best_worst_group_epoch(data, tmp_path):
    X_train, y_train, X_val, y_val, groups_val = data
    checkpoint = Checkpoint(monitor=f"{NAME}_best", dirname=str(tmp_path))
    torch.manual_seed(0)
    net = make_net([WorstGroupScoring(X_val, y_val, groups_val), checkpoint])
    net.fit(X_train, y_train)
    scores = net.history[:, NAME]
    best_epoch = int(np.argmax(scores)) + 1
    assert best_epoch < len(scores)  # so restoring is not a no-op

    net.load_params(checkpoint=checkpoint)
    restored = worst_group_accuracy(y_val, net.predict(X_val), group_labels=groups_val)
    assert restored == max(scores)
    # The history was saved as JSON next to the parameters at that epoch.
    assert (tmp_path / "history.json").exists()
    assert len(net.history) == best_epoch

    # A fresh net picks the checkpoint up through LoadInitState.
    fresh = make_net([LoadInitState(checkpoint)], max_epochs=0)
    fresh.fit(X_train, y_train)
    assert worst_group_accuracy(y_val, fresh.predict(X_val), group_labels=groups_val) == max(scores)


def test_checkpoint_load_best(data, tmp_path):
    X_train, y_train, X_val, y_val, groups_val = data
    torch.manual_seed(0)
    net = make_net(
        [
            WorstGroupScoring(X_val, y_val, groups_val),
            Checkpoint(monitor=f"{NAME}_best", dirname=str(tmp_path), load_best=True),
        ]
    )
    net.fit(X_train, y_train)
    assert worst_group_accuracy(y_val, net.predict(X_val), group_labels=groups_val) == max(
        net.history[:, NAME]
    )


def test_early_stopping_on_worst_group(data):
    X_train, y_train, X_val, y_val, groups_val = data
    torch.manual_seed(0)
    net = make_net(
        [
            WorstGroupScoring(X_val, y_val, groups_val),
            EarlyStopping(monitor=NAME, lower_is_better=False, patience=2),
        ],
        max_epochs=30,
    )
    net.fit(X_train, y_train)
    scores = net.history[:, NAME]
    best_epoch = int(np.argmax(scores))
    assert len(scores) < 30
    assert len(scores) == best_epoch + 1 + 2


def test_original_labels_with_classes(data):
    X_train, y_train, X_val, y_val, groups_val = data
    names = np.array(["bird", "plane"])

    torch.manual_seed(0)
    encoded = make_net([WorstGroupScoring(X_val, y_val, groups_val)], max_epochs=3)
    encoded.fit(X_train, y_train)
    torch.manual_seed(0)
    named = make_net([WorstGroupScoring(X_val, names[y_val], groups_val, classes=names)], max_epochs=3)
    named.fit(X_train, y_train)
    assert named.history[:, NAME] == encoded.history[:, NAME]


def test_unsorted_classes(data):
    X_train, y_train, X_val, y_val, groups_val = data
    torch.manual_seed(0)
    net = make_net(
        # Index 0 is labelled 10, index 1 is labelled 3.
        [WorstGroupScoring(X_val, np.where(y_val == 0, 10, 3), groups_val, classes=[10, 3])],
        max_epochs=2,
    )
    net.fit(X_train, y_train)
    assert net.history[-1, NAME] == worst_group_accuracy(y_val, net.predict(X_val), group_labels=groups_val)


def test_continued_training_keeps_best_so_far(data):
    X_train, y_train, X_val, y_val, groups_val = data
    torch.manual_seed(0)
    net = make_net([WorstGroupScoring(X_val, y_val, groups_val)], max_epochs=4)
    net.fit(X_train, y_train)
    net.partial_fit(X_train, y_train)
    best = -np.inf
    for row in net.history:
        assert row[f"{NAME}_best"] is (row[NAME] > best)
        best = max(best, row[NAME])


def test_per_group_off_and_custom_name(data):
    X_train, y_train, X_val, y_val, groups_val = data
    net = make_net(
        [WorstGroupScoring(X_val, y_val, groups_val, name="wga", per_group=False)],
        max_epochs=1,
    )
    net.fit(X_train, y_train)
    keys = set(net.history[-1])
    assert {"wga", "wga_best"} <= keys
    assert not any(key.startswith("wga_g") for key in keys)


def test_clone_and_params(data):
    _, _, X_val, y_val, groups_val = data
    callback = WorstGroupScoring(X_val, y_val, groups_val, name="wga")
    copy = clone(callback)
    assert copy.get_params()["name"] == "wga"
    np.testing.assert_array_equal(copy.get_params()["group_labels"], groups_val)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"group_labels": np.array([0, 1, -1, 1] * 25)}, "unknown group UNKNOWN_GROUP"),
        ({"group_labels": np.zeros(100, dtype=int)}, "single group"),
        ({"group_labels": np.arange(99) % 2}, "group_labels has 99 values but y_valid has 100"),
        ({"y_valid": np.array(["a", "b"] * 50)}, "must hold the net's class indices"),
        ({"classes": [0, 0]}, "must not repeat"),
        ({"classes": [0, 7]}, r"labels \[1\] that are not in classes"),
        ({"classes": ["a", "b"]}, r"labels \[0, 1\] that are not in classes"),
        ({"X_valid": np.zeros((5, 2), dtype=np.float32)}, "X_valid has 5 rows"),
    ],
    ids=[
        "unknown-group",
        "single-group",
        "short-group-labels",
        "string-y",
        "repeated-classes",
        "label-not-in-classes",
        "labels-not-in-string-classes",
        "short-X",
    ],
)
def test_invalid_inputs_raise_at_initialize(data, kwargs, match):
    _, _, X_val, y_val, groups_val = data
    params = dict(X_valid=X_val, y_valid=y_val, group_labels=groups_val)
    params.update(kwargs)
    with pytest.raises(ValueError, match=match):
        WorstGroupScoring(**params).initialize()
