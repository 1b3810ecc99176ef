"""JTT's model-selection protocol: train on ungrouped rows, score on grouped ones."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.model_selection import PredefinedSplit
from skorch.helper import SliceDataset
from torch.utils.data import ConcatDataset, Subset

from ..metrics._group_metrics import _check_group_labels
from ..utils._groups import (
    UNKNOWN_GROUP,
    UNKNOWN_GROUP_NAME,
    unknown_group_mask,
    unknown_groups,
)
from ..utils._validation import dataset_labels, is_dataset_view, is_dict_data, is_torch_dataset


class ValidationProtocol(NamedTuple):
    """Inputs for a search under JTT's protocol, from :func:`make_validation_protocol`.

    Unpack it (``X, y, group_labels, cv = protocol``) or use the attributes.

    Attributes
    ----------
    X : array-like
        Training rows, then validation rows (same type as the inputs).
    y : array-like
        Their labels.
    group_labels : ndarray of shape (n_train + n_val,)
        ``UNKNOWN_GROUP`` (-1) for the training rows, the validation groups
        for the validation rows (int64). With groups named by strings, the
        training rows get ``UNKNOWN_GROUP_NAME`` (``"<unknown>"``) instead.
    cv : PredefinedSplit
        One split: fit on the training rows, score on the validation rows.
    """

    X: Any
    y: Any
    group_labels: np.ndarray
    cv: PredefinedSplit


def _is_pandas(data):
    return type(data).__module__.split(".")[0] == "pandas"


def _n_rows(data, name):
    if hasattr(data, "shape") and len(data.shape) > 0:
        return data.shape[0]
    try:
        return len(data)
    except TypeError:
        raise TypeError(
            f"{name} must be an array, a sparse matrix or a pandas object; got {type(data).__name__}."
        ) from None


def _check_row_indexable(train, val, name):
    """A search indexes X by row: refuse what cannot be, before its rows are counted."""
    for part in (train, val):
        if is_dict_data(part):
            raise TypeError(
                f"{name}_train and {name}_val are dicts, but a scikit-learn search indexes X by row, "
                "which a dict of arrays cannot be (JTTClassifier.fit itself takes one). Wrap it in "
                "skorch.helper.SliceDict, or put the arrays in a torch Dataset."
            )
    if _is_dataset(train) != _is_dataset(val):
        raise TypeError(
            f"{name}_train is a {type(train).__name__} and {name}_val a {type(val).__name__}; pass two "
            "torch Datasets, or two arrays of the same kind."
        )


def _is_dataset(X):
    return is_torch_dataset(X) or is_dataset_view(X)


def as_search_rows(X, y):
    """A torch Dataset as a search indexes it, ``(SliceDataset of its inputs, its labels)``; else as is.

    Every search entry point trains on this view, so a search's candidates and
    the refit on the training rows see (and are cached under) the same rows.
    Images are opened only when a batch needs them.
    """
    if not _is_dataset(X):
        return X, y
    labels = dataset_labels(X) if y is None else np.asarray(y)
    return SliceDataset(_as_torch_dataset(X)), labels


def _as_torch_dataset(X):
    """A SliceDataset of a Dataset's inputs (``idx=0``) as the rows of that Dataset it selects."""
    if not is_dataset_view(X):
        return X
    if X.idx != 0:
        raise ValueError(
            f"A SliceDataset with idx={X.idx} selects the {X.idx}th element of each item; the search "
            "needs the inputs (idx=0). Pass the Dataset itself, or SliceDataset(dataset, idx=0)."
        )
    return Subset(X.dataset, np.asarray(X.indices_).tolist())


def _concat_datasets(train, val):
    """Validation rows after training rows, as one SliceDataset over both Datasets (nothing is loaded)."""
    return SliceDataset(ConcatDataset([_as_torch_dataset(train), _as_torch_dataset(val)]))


def _concat_rows(train, val, name):
    """Stack validation rows under training rows, keeping the input type."""
    if _is_pandas(train) or _is_pandas(val):
        if type(train) is not type(val):
            raise TypeError(
                f"{name}_train and {name}_val must be of the same type to be "
                f"stacked; got {type(train).__name__} and {type(val).__name__}."
            )
        import pandas as pd

        if hasattr(train, "columns") and not train.columns.equals(val.columns):
            # pd.concat would align the columns and fill the gaps with NaN.
            raise ValueError(
                f"{name}_train and {name}_val must have the same columns in the same "
                f"order; got {list(train.columns)} and {list(val.columns)}."
            )
        # A fresh index: PredefinedSplit is positional, and duplicated labels
        # from two separately indexed frames would confuse label-based code.
        return pd.concat([train, val], ignore_index=True)
    if sp.issparse(train) or sp.issparse(val):
        if not (sp.issparse(train) and sp.issparse(val)):
            raise TypeError(f"{name}_train and {name}_val must both be sparse or both dense.")
        if train.shape[1] != val.shape[1]:
            raise ValueError(f"{name}_train has {train.shape[1]} columns but {name}_val has {val.shape[1]}.")
        return sp.vstack([train, val], format=train.format)
    train, val = np.asarray(train), np.asarray(val)
    if train.ndim == 0 or train.shape[1:] != val.shape[1:]:
        raise ValueError(
            f"{name}_train and {name}_val must have the same shape apart from the "
            f"number of rows; got {train.shape} and {val.shape}."
        )
    return np.concatenate([train, val])


def make_validation_protocol(
    X_train: ArrayLike | Any,
    y_train: ArrayLike | Any,
    X_val: ArrayLike | Any,
    y_val: ArrayLike | Any,
    group_labels_val: ArrayLike,
) -> ValidationProtocol:
    """Stack training and validation rows for a search under JTT's protocol.

    In JTT (Liu et al., 2021) the training rows have no group labels; only a
    validation set carries them, and hyperparameters are chosen by
    worst-group accuracy on it. This returns the stacked data, the group
    labels (``UNKNOWN_GROUP``, -1, for every training row) and a
    :class:`~sklearn.model_selection.PredefinedSplit` that fits on the
    training rows and scores on the validation rows only. Pass them to a
    search with a group scorer::

        X, y, group_labels, cv = make_validation_protocol(...)
        search = GridSearchCV(est, grid, cv=cv, scoring=make_worst_group_scorer(),
                              error_score="raise", refit=False)
        search.fit(X, y, group_labels=group_labels)

    ``refit=True`` (the default) would refit the best model on all rows,
    validation rows included; :func:`refit_on_train` refits it on the
    training rows only, as in the paper.

    Parameters
    ----------
    X_train : array-like, sparse matrix, DataFrame or torch Dataset of shape (n_train, ...)
        Training inputs; their groups are never needed. A torch Dataset
        (such as :class:`~jtt_sklearn.datasets.ImageFolderDataset`, or a
        ``skorch.helper.SliceDataset`` of one) is never loaded: the search
        gets a ``SliceDataset`` view and opens images batch by batch.
    y_train : array-like of shape (n_train,) or None
        Training labels. None only for a Dataset, whose ``targets`` (or
        items) give them.
    X_val : same kind as ``X_train``, of shape (n_val, ...)
        Validation inputs.
    y_val : array-like of shape (n_val,) or None
        Validation labels (None only for a Dataset).
    group_labels_val : array-like of int or str of shape (n_val,)
        Group of each validation row: integer ids (see
        :func:`~jtt_sklearn.utils.make_groups`) or names, as the group
        scorers take them; at least two groups, none unknown.

    Returns
    -------
    protocol : ValidationProtocol
        Named tuple ``(X, y, group_labels, cv)``. ``X`` and ``y`` keep the
        input type: numpy arrays are concatenated, sparse matrices stacked,
        pandas objects concatenated with a fresh ``RangeIndex``. Two
        Datasets become one ``SliceDataset`` over both, and ``y`` their
        labels as an array.

    See Also
    --------
    refit_on_train : Refit the chosen model on the training rows only.
    jtt_sklearn.metrics.make_worst_group_scorer : The scorer for the search.

    Notes
    -----
    Do not set ``return_train_score=True``: the training rows have no group,
    so a group scorer cannot score them.

    Examples
    --------
    >>> import numpy as np
    >>> from jtt_sklearn.model_selection import make_validation_protocol
    >>> X_train, y_train = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    >>> X_val, y_val = np.ones((2, 2)), np.array([0, 1])
    >>> X, y, group_labels, cv = make_validation_protocol(
    ...     X_train, y_train, X_val, y_val, group_labels_val=[0, 3]
    ... )
    >>> X.shape
    (6, 2)
    >>> group_labels
    array([-1, -1, -1, -1,  0,  3])
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split()]
    [([0, 1, 2, 3], [4, 5])]
    """
    _check_row_indexable(X_train, X_val, "X")
    X_train, y_train = as_search_rows(X_train, y_train)
    X_val, y_val = as_search_rows(X_val, y_val)
    n_train = _n_rows(X_train, "X_train")
    n_val = _n_rows(X_val, "X_val")
    lengths = {
        "y_train": (_n_rows(y_train, "y_train"), n_train, "X_train"),
        "y_val": (_n_rows(y_val, "y_val"), n_val, "X_val"),
        "group_labels_val": (_n_rows(group_labels_val, "group_labels_val"), n_val, "X_val"),
    }
    for name, (n, expected, reference) in lengths.items():
        if n != expected:
            raise ValueError(
                f"{name} has {n} rows but {reference} has {expected}; pass one value per row of {reference}."
            )
    if n_train == 0 or n_val == 0:
        raise ValueError(f"Both sets need rows; got {n_train} training and {n_val} validation rows.")

    groups_val = np.asarray(group_labels_val)
    if groups_val.ndim != 1:
        raise ValueError(f"group_labels_val must be 1-dimensional; got shape {groups_val.shape}.")
    # The scorers' own check: integer ids (make_groups) or group names as strings.
    groups_val = _check_group_labels(groups_val)
    if np.any(unknown_group_mask(groups_val)):
        raise ValueError(
            f"group_labels_val contains UNKNOWN_GROUP ({UNKNOWN_GROUP}, or {UNKNOWN_GROUP_NAME!r} "
            "for named groups). Every validation row needs its group, since the "
            "validation rows are the ones scored by worst-group accuracy."
        )
    if np.unique(groups_val).shape[0] < 2:
        raise ValueError(
            "group_labels_val holds a single group; worst-group accuracy needs a "
            "validation set covering at least two groups."
        )

    X = _concat_datasets(X_train, X_val) if is_dataset_view(X_train) else _concat_rows(X_train, X_val, "X")
    y = _concat_rows(y_train, y_val, "y")
    group_labels = np.concatenate([unknown_groups(n_train, like=groups_val), groups_val])
    # -1: never in a test fold (always trained on); 0: the single test fold.
    test_fold = np.concatenate([np.full(n_train, -1), np.zeros(n_val, dtype=int)])
    return ValidationProtocol(X, y, group_labels, PredefinedSplit(test_fold))


def refit_on_train(search: Any, X_train: ArrayLike | Any, y_train: ArrayLike | Any, **fit_params: Any) -> Any:
    """Refit the best model of a search on the training rows only.

    A search's own refit (``refit=True``) fits the best parameters on every
    row it was given, which under :func:`make_validation_protocol` includes
    the group-labelled validation rows. JTT's paper trains on the training
    set only and keeps the validation set for selection; this does that.
    Run the search with ``refit=False`` (single metric) or with
    ``refit="<metric name>"`` (multi-metric, to define ``best_params_``).

    Parameters
    ----------
    search : fitted GridSearchCV, RandomizedSearchCV or similar
        A search exposing ``estimator`` and ``best_params_``.
    X_train : array-like or torch Dataset
        Training inputs. A Dataset is refitted on as the search saw it (a
        ``SliceDataset`` view), so a search's ``memory`` serves the refit.
    y_train : array-like or None
        Training labels (None only for a Dataset).
    **fit_params : dict
        Passed to the estimator's ``fit``.

    Returns
    -------
    estimator : estimator
        A clone of ``search.estimator`` with ``search.best_params_``, fitted
        on ``X_train, y_train``. After a successive-halving search over a
        parameter (``resource``), that parameter is set to ``max_resources_``,
        the configured length, whatever its last round used.

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from jtt_sklearn.metrics import make_worst_group_scorer
    >>> from jtt_sklearn.model_selection import make_validation_protocol, refit_on_train
    >>> rng = np.random.RandomState(0)
    >>> X_train, X_val = rng.normal(size=(80, 2)), rng.normal(size=(40, 2))
    >>> y_train, y_val = (X_train[:, 0] > 0).astype(int), (X_val[:, 0] > 0).astype(int)
    >>> groups_val = 2 * y_val + (X_val[:, 1] > 0)
    >>> X, y, group_labels, cv = make_validation_protocol(
    ...     X_train, y_train, X_val, y_val, groups_val
    ... )
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     search = GridSearchCV(
    ...         LogisticRegression(), {"C": [0.01, 1.0]}, cv=cv, refit=False,
    ...         scoring=make_worst_group_scorer(), error_score="raise",
    ...     ).fit(X, y, group_labels=group_labels)
    >>> search.best_params_
    {'C': 0.01}
    >>> refit_on_train(search, X_train, y_train)
    LogisticRegression(C=0.01)
    """
    best_params = getattr(search, "best_params_", None)
    if best_params is None or not hasattr(search, "estimator"):
        raise ValueError(
            "search has no best_params_: fit it first. A multi-metric search "
            "defines best_params_ only with refit='<metric name>'."
        )
    best_params = dict(best_params)
    resource = getattr(search, "resource", "n_samples")
    if resource != "n_samples" and hasattr(search, "max_resources_"):
        # A halving search's last round may stop short of its resource's full value: refit at it.
        best_params[resource] = search.max_resources_
    estimator = clone(search.estimator).set_params(**best_params)
    X_train, y_train = as_search_rows(X_train, y_train)  # the rows the search trained on, so its cache serves
    return estimator.fit(X_train, y_train, **fit_params)
