"""Tiny torch modules and skorch nets shared by the tests."""

import numpy as np
import torch
from sklearn.datasets import make_classification
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn


class MLP(nn.Module):
    """A small MLP that infers its sizes lazily, so it fits any number of features and classes."""

    def __init__(self, n_classes=2, hidden=16):
        super().__init__()
        self.n_classes = n_classes
        self.body = nn.Sequential(nn.LazyLinear(hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, X):
        # Estimator checks feed float64 and int data; the module works in float32.
        return self.body(X.reshape(len(X), -1).float())


def make_net(**params):
    """A skorch classifier with no internal validation split, quiet and fast."""
    defaults = dict(
        module=MLP,
        max_epochs=5,
        lr=0.1,
        batch_size=32,
        train_split=None,
        verbose=0,
        optimizer=torch.optim.SGD,
        # The module returns logits; skorch's default NLLLoss expects probabilities.
        criterion=nn.CrossEntropyLoss,
    )
    defaults.update(params)
    return NeuralNetClassifier(**defaults)


class SizeOutputToClasses(Callback):
    """Give the module one output per class seen in fit (estimator checks vary n_classes)."""

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        n_classes = int(np.unique(np.asarray(y)).size)
        if net.module_.n_classes != n_classes:
            net.set_params(module__n_classes=n_classes)


EPOCHS_TRAINED = []


class CountEpochs(Callback):
    """Log every epoch that a net trains (into EPOCHS_TRAINED): how much work ran, and how long."""

    def on_epoch_end(self, net, **kwargs):
        EPOCHS_TRAINED.append(len(net.history))


class RecordingMLP(MLP):
    """Records the row ids (column 0) of every training batch."""

    def __init__(self, n_classes=2, hidden=16):
        super().__init__(n_classes=n_classes, hidden=hidden)
        self.seen = []

    def forward(self, X):
        if self.training:
            self.seen.append(X[:, 0].detach().long().numpy().copy())
        return self.body(X[:, 1:].float())


def skorch_data(n=120, seed=0):
    """Rows for a net, with each row's id in column 0 (what RecordingMLP records)."""
    X, y = make_classification(n_samples=n, n_features=6, n_informative=3, random_state=seed)
    X = np.column_stack([np.arange(n), X]).astype(np.float32)
    return X, y.astype(np.int64)
