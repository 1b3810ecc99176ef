"""Record the error set a net would give at every epoch of one identification run."""

import numpy as np
from skorch.callbacks import Callback

from .._stages import seeded_torch


class ErrorSetRecorder(Callback):
    """After every epoch, predict the training rows and record which are misclassified.

    One identification run of ``max(T)`` epochs with this callback shows the
    error set of every smaller ``T`` (``error_sets_[T]``) and its size per
    epoch in the history (``error_set_size``): a cheap way to see how the
    error set changes with ``T`` before a search. The prediction pass is
    batched, without gradients and in eval mode, like JTTClassifier's, and
    runs in a forked torch RNG so it does not change the training run.

    The error set after epoch ``t`` of a longer run equals that of a
    ``t``-epoch run only when nothing in training depends on ``max_epochs``
    (a learning-rate schedule sized by it, such as the linear schedule of
    BERT fine-tuning, breaks that). For this reason JTTClassifier does not
    substitute one for the other on its own.

    Parameters
    ----------
    X : array-like, dict or torch Dataset
        The training inputs, as the net takes them.
    y : array-like of shape (n_samples,)
        Their labels, encoded as the net's targets (0..n_classes-1).

    Attributes
    ----------
    error_sets_ : dict of int to ndarray
        ``{epoch: sorted indices of misclassified rows}``.

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

    def __init__(self, X, y):
        self.X = X
        self.y = y

    def initialize(self):
        self.error_sets_ = {}
        self.y_ = np.asarray(self.y).reshape(-1)
        return self

    def on_epoch_end(self, net, **kwargs):
        seed = int(np.random.RandomState(len(net.history)).randint(2**31 - 1))
        with seeded_torch(seed):  # forked: the training run's RNG stream is untouched
            predictions = np.asarray(net.predict(self.X)).reshape(-1)
        errors = np.flatnonzero(predictions != self.y_)
        epoch = len(net.history)
        self.error_sets_[epoch] = errors
        net.history.record("error_set_size", int(errors.size))
