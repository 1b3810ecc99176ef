"""A small skorch net for feature vectors: the base estimator of the demo and the benchmarks."""

from __future__ import annotations

from typing import Any, cast

import torch
from skorch import NeuralNetClassifier
from torch import nn


class TabularMLP(nn.Module):
    """One hidden ReLU layer; returns logits (pair it with ``CrossEntropyLoss``).

    Inputs of another floating dtype (the float64 that NumPy and
    scikit-learn produce) are cast to the dtype of the weights.

    Parameters
    ----------
    n_features : int or None, default=128
        Width of the input rows. None makes the first layer a
        :class:`torch.nn.LazyLinear`, which takes its width from the first
        batch it sees (for rows from a ``ColumnTransformer``, whose width
        you do not know in advance).
    n_classes : int, default=2
        Number of output logits.
    hidden : int, default=64
        Width of the hidden layer.
    """

    def __init__(self, n_features: int | None = 128, n_classes: int = 2, hidden: int = 64) -> None:
        super().__init__()
        # LazyLinear's weights are made at the first forward pass, inside fit: under JTT's seeded
        # stages, so a seeded fit is still reproducible.
        first = nn.LazyLinear(hidden) if n_features is None else nn.Linear(n_features, hidden)
        self.layers = nn.Sequential(first, nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        # A no-op on float32 rows, so their results are unchanged; without it float64 rows fail
        # in the first Linear ("mat1 and mat2 must have the same dtype"). The last layer is never
        # lazy, so its dtype is known before the first batch.
        last = cast(nn.Linear, self.layers[-1])  # indexing a Sequential gives a plain Module
        return self.layers(X.to(last.weight.dtype))


def make_tabular_net(
    n_features: int | None = None,
    n_classes: int = 2,
    *,
    hidden: int = 64,
    max_epochs: int = 30,
    lr: float = 1e-3,
    batch_size: int = 64,
    **net_params: Any,
) -> NeuralNetClassifier:
    """A skorch classifier for feature rows, set up the way JTT needs it.

    Adam, cross-entropy on logits, shuffled batches, and ``train_split=None``:
    JTT trains on every training row, and validation is the group-labelled
    split you score on (see :func:`~jtt_sklearn.model_selection.tune_on_validation`).

    Parameters
    ----------
    n_features : int or None, default=None
        Width of the input rows (``X.shape[1]``). None (the default) takes
        it from the first training batch (a :class:`torch.nn.LazyLinear`
        first layer), so the net works right after a ``ColumnTransformer``
        or a ``OneHotEncoder`` without computing their output width.
    n_classes : int, default=2
        Number of classes.
    hidden : int, default=64
        Width of the hidden layer of :class:`TabularMLP`.
    max_epochs : int, default=30
        Training length of the final model; JTT's ``T`` sets stage 1's.
    lr : float, default=1e-3
        Adam's learning rate.
    batch_size : int, default=64
        Rows per batch.
    **net_params
        Any other ``NeuralNetClassifier`` parameter (``device="cuda"``,
        ``optimizer__weight_decay=1e-4``, callbacks, ...).

    Returns
    -------
    net : skorch.NeuralNetClassifier
        Not fitted. Feed it float arrays: float32 as is, float64 cast to
        float32 by :class:`TabularMLP` (``float32`` input skips the copy).

    Examples
    --------
    >>> import numpy as np
    >>> from jtt_sklearn import JTTClassifier
    >>> from jtt_sklearn.recipes import make_tabular_net
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(600, 8))  # float64, as NumPy makes it
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    >>> net = make_tabular_net(8, max_epochs=20)
    >>> clf = JTTClassifier(net, T=2, lambda_up=5, random_state=0).fit(X[:400], y[:400])
    >>> print(f"held-out accuracy > 0.9: {clf.score(X[400:], y[400:]) > 0.9}")
    held-out accuracy > 0.9: True
    """
    params = dict(
        module__n_features=n_features,
        module__n_classes=n_classes,
        module__hidden=hidden,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=lr,
        batch_size=batch_size,
        max_epochs=max_epochs,
        iterator_train__shuffle=True,
        train_split=None,  # JTT needs every training row; validation is the group-labelled split
        verbose=0,
    )
    params.update(net_params)
    return NeuralNetClassifier(TabularMLP, **params)
