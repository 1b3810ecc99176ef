"""Per-epoch worst-group accuracy on a fixed validation set, for skorch nets."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import get_len

from ..metrics._group_metrics import (
    _as_1d,
    _check_group_labels,
    _check_no_unknown,
    _group_table,
)


def _encode_labels(y, classes):
    """Map labels to their positions in ``classes`` (the net's class indices)."""
    classes = _as_1d(classes, "classes")
    if np.unique(classes).shape[0] != classes.shape[0]:
        raise ValueError(f"classes must not repeat a label; got {classes.tolist()}.")
    sorter = np.argsort(classes, kind="stable")
    try:
        positions = np.searchsorted(classes, y, sorter=sorter)
    except TypeError:
        raise ValueError(
            "y_valid and classes hold labels of different types (for example "
            "strings and numbers); pass classes in the labels of y_valid."
        ) from None
    index = sorter[np.clip(positions, 0, classes.shape[0] - 1)]
    unknown = classes[index] != y
    if unknown.any():
        raise ValueError(
            f"y_valid has labels {np.unique(y[unknown]).tolist()} that are not in classes {classes.tolist()}."
        )
    return index


class WorstGroupScoring(Callback):
    """Record worst-group validation accuracy at the end of every epoch.

    At each epoch end the net predicts a fixed, group-labelled validation set
    and records in ``net.history``:

    * ``name``: the worst-group accuracy;
    * ``f"{name}_best"``: whether it is the highest so far (strictly);
    * ``f"{name}_g{g}"`` for every group ``g``: that group's accuracy
      (if ``per_group=True``).

    With ``Checkpoint(monitor=f"{name}_best")`` the saved (and, with
    ``load_best=True`` or ``LoadInitState``, restored) model is the epoch
    with the best worst-group validation accuracy, which is how JTT selects
    its final model. ``EarlyStopping(monitor=name, lower_is_better=False)``
    stops when it no longer improves. Put this callback before them in the
    ``callbacks`` list so that its values are recorded when they read them.

    Parameters
    ----------
    X_valid : input data accepted by ``net.predict``
        Validation inputs (arrays, tensors, dicts, ...).
    y_valid : array-like of shape (n_valid,)
        Validation labels. ``NeuralNetClassifier.predict`` returns class
        *indices* ``0..K-1``, so either encode ``y_valid`` the same way or
        pass ``classes``.
    group_labels : array-like of shape (n_valid,)
        Group of each validation row (see
        :func:`~jtt_sklearn.utils.make_groups`); at least two groups, none
        unknown (-1).
    name : str, default="valid_worst_group"
        History key of the worst-group accuracy; the other keys derive from it.
    classes : array-like, default=None
        The original labels in the order of the net's class indices, to map
        ``y_valid`` to those indices. ``JTTClassifier`` (like
        ``LabelEncoder``) orders them as the sorted unique training labels,
        so ``classes=np.unique(y_train)`` fits it. By default ``y_valid`` must
        already hold class indices (non-negative integers).
    per_group : bool, default=True
        Also record each group's accuracy.

    Attributes
    ----------
    best_score_ : float
        Highest worst-group accuracy recorded so far.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from jtt_sklearn.callbacks import WorstGroupScoring
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> groups = 2 * y + (X[:, 1] > 0)
    >>> _ = torch.manual_seed(0)
    >>> net = NeuralNetClassifier(
    ...     torch.nn.Linear, module__in_features=2, module__out_features=2,
    ...     criterion=torch.nn.CrossEntropyLoss, max_epochs=3, train_split=None,
    ...     verbose=0, callbacks=[WorstGroupScoring(X[:50], y[:50], groups[:50])],
    ... )
    >>> _ = net.fit(X[50:], y[50:])
    >>> for key in sorted(net.history[-1]):
    ...     if key.startswith("valid_worst_group"):
    ...         print(key)
    valid_worst_group
    valid_worst_group_best
    valid_worst_group_g0
    valid_worst_group_g1
    valid_worst_group_g2
    valid_worst_group_g3
    """

    def __init__(
        self,
        X_valid: ArrayLike | Any,
        y_valid: ArrayLike,
        group_labels: ArrayLike,
        *,
        name: str = "valid_worst_group",
        classes: ArrayLike | None = None,
        per_group: bool = True,
    ) -> None:
        self.X_valid = X_valid
        self.y_valid = y_valid
        self.group_labels = group_labels
        self.name = name
        self.classes = classes
        self.per_group = per_group

    def initialize(self) -> WorstGroupScoring:
        y = _as_1d(self.y_valid, "y_valid")
        groups = _check_group_labels(self.group_labels)
        if groups.shape[0] != y.shape[0]:
            raise ValueError(
                f"group_labels has {groups.shape[0]} values but y_valid has "
                f"{y.shape[0]}; pass one group label per validation row."
            )
        try:
            n_inputs = get_len(self.X_valid)
        except (TypeError, ValueError):
            n_inputs = None  # a Dataset or other input whose length skorch can't read
        if n_inputs is not None and n_inputs != y.shape[0]:
            raise ValueError(f"X_valid has {n_inputs} rows but y_valid has {y.shape[0]}.")
        _check_no_unknown(groups)
        if np.unique(groups).shape[0] < 2:
            raise ValueError(
                "group_labels holds a single group; worst-group accuracy needs a "
                "validation set covering at least two groups."
            )
        if self.classes is not None:
            y = _encode_labels(y, self.classes)
        elif y.dtype.kind not in "iu" or np.any(y < 0):
            raise ValueError(
                "y_valid must hold the net's class indices (integers 0..K-1), "
                "which NeuralNetClassifier.predict returns; got labels such as "
                f"{np.unique(y)[:5].tolist()}. Pass classes=<labels in index "
                "order>, e.g. classes=np.unique(y_train), to map them."
            )
        self.y_valid_ = y
        self.group_labels_ = groups
        self.best_score_ = -np.inf
        return self

    def on_train_begin(self, net: NeuralNet, X: Any = None, y: Any = None, **kwargs: Any) -> None:
        # Continued training (partial_fit, warm_start) keeps the best so far.
        try:
            scores = net.history[:, self.name]
        except KeyError:
            return
        if scores:
            self.best_score_ = max(self.best_score_, max(scores))

    def on_epoch_end(self, net: NeuralNet, **kwargs: Any) -> None:
        y_pred = net.predict(self.X_valid)
        groups, accuracies, _, _ = _group_table(self.y_valid_, y_pred, self.group_labels_, min_groups=2)
        score = float(accuracies.min())
        is_best = score > self.best_score_
        if is_best:
            self.best_score_ = score
        net.history.record(self.name, score)
        net.history.record(f"{self.name}_best", bool(is_best))
        if self.per_group:
            for group, accuracy in zip(groups, accuracies):
                # Plain floats keep the history JSON-serialisable (Checkpoint).
                net.history.record(f"{self.name}_g{group.item()}", float(accuracy))
