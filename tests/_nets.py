"""Tiny torch modules and skorch nets shared by the tests."""

import numpy as np
import torch
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
