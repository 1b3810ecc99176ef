"""Record the error set a net would give at every epoch of one identification run."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from skorch import NeuralNet
from skorch.callbacks import Callback

from ..utils._seeding import forked_rngs


class ErrorSetRecorder(Callback):
    """After chosen epochs, predict the training rows and record which are misclassified.

    One identification run of ``max(T)`` epochs with this callback shows the
    error set of every smaller ``T`` (``error_sets_[T]``) and its size per
    epoch in the history (``error_set_size``). JTTClassifier uses it for
    ``T_grid``. The prediction pass is batched, without gradients and in eval
    mode, like JTTClassifier's. It runs on copies of the global torch, numpy
    and ``random`` RNG states, so it does not change the training run, and a
    dataset with random transforms draws what a pass at the end of a shorter
    run would draw.

    The error set after epoch ``t`` of a longer run equals that of a
    ``t``-epoch run only when nothing in training depends on ``max_epochs``
    (a learning-rate schedule sized by it, such as the linear schedule of
    BERT fine-tuning, breaks that). A callback listed before this one that
    stops training (EarlyStopping) ends the epoch before it is recorded.

    Parameters
    ----------
    X : array-like, dict, torch Dataset or None, default=None
        The rows to predict, as the net takes them. ``None`` means the data
        passed to ``fit`` (then ``y`` is the ``y`` passed to ``fit``); they
        are held only while the net trains, never stored.
    y : array-like of shape (n_samples,) or None, default=None
        Their labels, encoded as the net's targets (0..n_classes-1).
    epochs : list of int or None, default=None
        The epochs after which to record; ``None`` records after every one.
    keep_weights : bool, default=False
        Also keep a CPU copy of every module's weights after each recorded
        epoch in ``weights_`` (memory: one model per recorded epoch).

    Attributes
    ----------
    error_sets_ : dict of int to ndarray
        ``{epoch: sorted indices of misclassified rows}``.
    weights_ : dict of int to dict
        ``{epoch: {module name: state_dict}}``, only with ``keep_weights``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorch import NeuralNetClassifier
    >>> from jtt_sklearn.callbacks import ErrorSetRecorder
    >>> X = np.random.RandomState(0).normal(size=(60, 3)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> recorder = ErrorSetRecorder(X, y)
    >>> net = NeuralNetClassifier(torch.nn.Linear, module__in_features=3, module__out_features=2,
    ...                           criterion=torch.nn.CrossEntropyLoss, max_epochs=3,
    ...                           train_split=None, verbose=0, callbacks=[recorder]).fit(X, y)
    >>> sorted(recorder.error_sets_)
    [1, 2, 3]
    """

    fit_data_: tuple[Any, np.ndarray] | None

    def __init__(
        self,
        X: ArrayLike | Any = None,
        y: ArrayLike | None = None,
        *,
        epochs: Collection[int] | None = None,
        keep_weights: bool = False,
    ) -> None:
        self.X = X
        self.y = y
        self.epochs = epochs
        self.keep_weights = keep_weights

    def initialize(self) -> ErrorSetRecorder:
        if (self.X is None) != (self.y is None):
            raise ValueError(
                "ErrorSetRecorder needs both X and y, or neither (then it uses the data passed to fit)."
            )
        self.error_sets_: dict[int, np.ndarray] = {}
        self.weights_: dict[int, dict[str, dict[str, Any]]] = {}
        self.y_ = None if self.y is None else np.asarray(self.y).reshape(-1)
        self.fit_data_ = None
        return self

    def on_train_begin(self, net: NeuralNet, X: Any = None, y: Any = None, **kwargs: Any) -> None:
        if self.X is None:
            if y is None:
                raise ValueError(
                    "ErrorSetRecorder() without X and y compares predictions with the y passed to "
                    "fit, but fit got y=None. Pass ErrorSetRecorder(X, y)."
                )
            self.fit_data_ = (X, np.asarray(y).reshape(-1))

    def on_train_end(self, net: NeuralNet, **kwargs: Any) -> None:
        self.fit_data_ = (
            None  # never keep (or pickle) the training data; the trailing _ keeps it out of get_params
        )

    def on_epoch_end(self, net: NeuralNet, **kwargs: Any) -> None:
        epoch = len(net.history)
        if self.epochs is not None and epoch not in self.epochs:
            return
        if self.X is not None:
            X, y = self.X, self.y_
        else:
            assert self.fit_data_ is not None, "on_train_begin records the data passed to fit"
            X, y = self.fit_data_
        # Forked, not reseeded: a random transform in the dataset draws what a pass at the end of
        # an epoch-long run would draw, and the training run's streams are left untouched.
        with forked_rngs():
            predictions = np.asarray(net.predict(X)).reshape(-1)
        errors = np.flatnonzero(predictions != y)
        self.error_sets_[epoch] = errors
        net.history.record("error_set_size", int(errors.size))
        if self.keep_weights:
            self.weights_[epoch] = {
                name: {
                    key: value.detach().to("cpu", copy=True)
                    for key, value in getattr(net, name + "_").state_dict().items()
                }
                for name in net._modules or ["module"]
            }
