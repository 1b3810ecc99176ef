"""Accuracy per group and its summaries (worst-group, mean-group, weighted)."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.multiclass import type_of_target, unique_labels

from ..utils._groups import UNKNOWN_GROUP, UNKNOWN_GROUP_NAME, unknown_group_mask


class GroupAccuracy(NamedTuple):
    """Accuracy of one group, as returned by :func:`group_accuracies`.

    Attributes
    ----------
    accuracy : float
        Fraction of the group's rows predicted correctly (weighted by
        ``sample_weight`` when one is given).
    n_samples : int
        Number of rows of the group (unweighted).
    """

    accuracy: float
    n_samples: int


# Parameters that every group metric takes, written once and filled in by _document.
_ROWS = """y_true : array-like of shape (n_samples,)
        True class labels.
    y_pred : array-like of shape (n_samples,)
        Predicted class labels.
    group_labels : array-like of shape (n_samples,)
        Group of each row, integers (see :func:`~jtt_sklearn.utils.make_groups`) or strings. At
        least two groups for a summary; no row may have the unknown group
        ``UNKNOWN_GROUP`` (-1)."""
_SHARED_PARAMETERS = {
    "parameters": f"""Parameters
    ----------
    {_ROWS}
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights used inside each group's accuracy.""",
    "scored_rows": _ROWS,
}


_Func = TypeVar("_Func", bound=Callable[..., Any])


def _document(func: _Func) -> _Func:  # typed, so that the metrics keep their signatures for mypy
    """Fill the ``{parameters}`` (or ``{scored_rows}``) line of ``func``'s docstring."""
    if func.__doc__ is None:  # python -OO strips docstrings
        return func
    for key, text in _SHARED_PARAMETERS.items():
        func.__doc__ = func.__doc__.replace("{" + key + "}", text)
    return func


def _as_1d(values, name):
    array = np.asarray(values)
    # A single column is unambiguous (a DataFrame column, a (n, 1) array).
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.ravel()
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be 1-dimensional (one value per row); got an array of shape {array.shape}."
        )
    return array


def _check_labels(values, name):
    labels = _as_1d(values, name)
    target_type = type_of_target(labels, input_name=name)
    if target_type not in ("binary", "multiclass"):
        raise ValueError(
            f"{name} must hold class labels, got {target_type!r} values. Group "
            "accuracies compare predicted labels with true labels: score "
            "estimator.predict(X), not probabilities or decision values."
        )
    return labels


def _check_group_labels(group_labels):
    groups = _as_1d(group_labels, "group_labels")
    kind = groups.dtype.kind
    if kind == "f":
        if np.isnan(groups).any():
            raise ValueError(
                "group_labels contains NaN. Mark a row whose group is not known "
                f"with UNKNOWN_GROUP ({UNKNOWN_GROUP}), and score only rows with "
                "a known group."
            )
        if not np.array_equal(groups, np.round(groups)):
            raise ValueError(
                "group_labels must be integers (for example from make_groups) or "
                "strings; got non-integer floats."
            )
        return groups.astype(np.int64)
    if kind in "iub":
        return groups.astype(np.int64)
    if kind in "US":
        return groups
    if kind == "O":
        if all(isinstance(g, str) for g in groups):
            return groups.astype(str)
        if all(isinstance(g, numbers.Integral) for g in groups):
            return groups.astype(np.int64)
    raise ValueError(
        "group_labels must be all integers (for example from make_groups) or all "
        f"strings; got values of dtype {groups.dtype} such as {groups[:3].tolist()}."
    )


def _check_no_unknown(groups):
    n_unknown = int(np.count_nonzero(unknown_group_mask(groups)))
    if n_unknown:
        raise ValueError(
            f"{n_unknown} of the {groups.shape[0]} rows to score have the unknown "
            f"group UNKNOWN_GROUP ({UNKNOWN_GROUP}). In JTT's protocol the "
            "training rows have no group label, so only the group-labelled "
            "validation rows can be scored: score the validation rows only (the "
            "PredefinedSplit from make_validation_protocol does this), or select "
            "the rows with group_labels != UNKNOWN_GROUP (for groups named by strings, "
            f"{UNKNOWN_GROUP_NAME!r})."
        )


def _check_sample_weight(sample_weight, n_samples):
    weights = _as_1d(sample_weight, "sample_weight")
    if weights.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {weights.shape[0]} values but there are {n_samples} "
            "rows to score; pass one weight per row."
        )
    if weights.dtype.kind not in "iuf":
        raise ValueError(f"sample_weight must be numeric; got dtype {weights.dtype}.")
    weights = weights.astype(np.float64)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    return weights


def _group_table(y_true, y_pred, group_labels, sample_weight=None, min_groups=1):
    """Validate the inputs and compute the accuracy of every group.

    Returns ``(groups, accuracies, counts, overall_accuracy)`` where ``groups``
    are the sorted unique group labels.
    """
    y_true = _check_labels(y_true, "y_true")
    y_pred = _check_labels(y_pred, "y_pred")
    groups = _check_group_labels(group_labels)
    lengths = (y_true.shape[0], y_pred.shape[0], groups.shape[0])
    if len(set(lengths)) != 1:
        raise ValueError(
            "y_true, y_pred and group_labels must have the same length; got "
            f"{lengths[0]}, {lengths[1]} and {lengths[2]}. Pass one prediction and "
            "one group label per scored row."
        )
    if lengths[0] == 0:
        raise ValueError("There are no rows to score (y_true is empty).")
    # Raises on a mix of string and numeric labels, which would compare unequal.
    unique_labels(y_true, y_pred)
    _check_no_unknown(groups)

    unique_groups, index = np.unique(groups, return_inverse=True)
    if unique_groups.shape[0] < min_groups:
        raise ValueError(
            f"Only one group ({unique_groups[0].item()!r}) is present in the scored "
            "rows. A worst-group or mean-group accuracy over a single group is just "
            "that group's accuracy and cannot tell models apart on group "
            "robustness; score rows that cover at least two groups (check the "
            "validation set and the cv folds)."
        )
    correct = (y_true == y_pred).astype(np.float64)
    counts = np.bincount(index, minlength=unique_groups.shape[0])
    if sample_weight is None:
        weights = np.ones_like(correct)
    else:
        weights = _check_sample_weight(sample_weight, lengths[0])
    weight_sums = np.bincount(index, weights=weights, minlength=unique_groups.shape[0])
    empty = weight_sums == 0
    if empty.any():
        raise ValueError(
            f"Groups {unique_groups[empty].tolist()} have zero total sample_weight, so "
            "their accuracy is undefined. Give their rows positive weight or leave "
            "those rows out."
        )
    hits = np.bincount(index, weights=weights * correct, minlength=unique_groups.shape[0])
    overall = float(np.sum(weights * correct) / np.sum(weights))
    return unique_groups, hits / weight_sums, counts, overall


@_document
def group_accuracies(
    y_true: ArrayLike, y_pred: ArrayLike, *, group_labels: ArrayLike, sample_weight: ArrayLike | None = None
) -> dict[int | str, GroupAccuracy]:
    """Accuracy and number of rows of each group.

    {parameters}

    Returns
    -------
    accuracies : dict
        ``{group: GroupAccuracy(accuracy, n_samples)}`` in ascending group
        order. ``accuracy`` is a float, ``n_samples`` the (unweighted) number
        of rows of the group. Groups absent from ``group_labels`` are absent.

    Raises
    ------
    ValueError
        If the inputs differ in length, if a row has the unknown group, or if
        a group has zero total ``sample_weight``.

    See Also
    --------
    group_report : The same numbers as a readable table.

    Examples
    --------
    >>> from jtt_sklearn.metrics import group_accuracies
    >>> y_true = [0, 0, 1, 1, 1, 0]
    >>> y_pred = [0, 1, 1, 1, 0, 0]
    >>> result = group_accuracies(y_true, y_pred, group_labels=[0, 0, 1, 1, 2, 2])
    >>> for group, accuracy in result.items():
    ...     print(group, accuracy)
    0 GroupAccuracy(accuracy=0.5, n_samples=2)
    1 GroupAccuracy(accuracy=1.0, n_samples=2)
    2 GroupAccuracy(accuracy=0.5, n_samples=2)
    >>> result[1].accuracy
    1.0
    """
    groups, accuracies, counts, _ = _group_table(y_true, y_pred, group_labels, sample_weight)
    return {
        group.item(): GroupAccuracy(float(accuracy), int(count))
        for group, accuracy, count in zip(groups, accuracies, counts)
    }


@_document
def worst_group_accuracy(
    y_true: ArrayLike, y_pred: ArrayLike, *, group_labels: ArrayLike, sample_weight: ArrayLike | None = None
) -> float:
    """Lowest accuracy over the groups present in ``group_labels``.

    This is the model-selection metric of JTT (Liu et al., 2021).

    {parameters}

    Returns
    -------
    score : float
        The minimum of the per-group accuracies.

    Raises
    ------
    ValueError
        If the inputs differ in length, if a row has the unknown group, or if
        only one group is present.

    Examples
    --------
    >>> from jtt_sklearn.metrics import worst_group_accuracy
    >>> y_true = [0, 0, 1, 1, 1, 0]
    >>> y_pred = [0, 1, 1, 1, 0, 0]
    >>> worst_group_accuracy(y_true, y_pred, group_labels=[0, 0, 1, 1, 2, 2])
    0.5
    """
    _, accuracies, _, _ = _group_table(y_true, y_pred, group_labels, sample_weight, min_groups=2)
    return float(accuracies.min())


@_document
def mean_group_accuracy(
    y_true: ArrayLike, y_pred: ArrayLike, *, group_labels: ArrayLike, sample_weight: ArrayLike | None = None
) -> float:
    """Unweighted mean of the per-group accuracies.

    Every group counts the same however many rows it has, unlike plain
    accuracy which the largest group dominates.

    {parameters}

    Returns
    -------
    score : float
        The mean of the per-group accuracies.

    Examples
    --------
    >>> from jtt_sklearn.metrics import mean_group_accuracy
    >>> # group 0: 1 of 2 rows right, group 1: 3 of 4 (plain accuracy: 4 of 6)
    >>> mean_group_accuracy([0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 0, 0], group_labels=[0, 0, 1, 1, 1, 1])
    0.625
    """
    accuracies = _group_table(y_true, y_pred, group_labels, sample_weight, min_groups=2)[1]
    return float(accuracies.mean())


def worst_class_accuracy(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Lowest per-class accuracy (recall) over the classes present in ``y_true``.

    Like :func:`sklearn.metrics.balanced_accuracy_score`, but the minimum of
    the per-class recalls instead of their mean. It needs no group labels,
    so it selects models in any scikit-learn search with metadata routing
    off (see :func:`make_worst_class_scorer`); with the classes as the
    groups it equals :func:`worst_group_accuracy`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels.
    y_pred : array-like of shape (n_samples,)
        Predicted class labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights used inside each class's accuracy.

    Returns
    -------
    score : float
        The minimum over the classes present in ``y_true`` of the fraction
        of that class's rows predicted correctly.

    Notes
    -----
    Only classes present in ``y_true`` count: a class that is only
    predicted (a label of ``y_pred`` absent from ``y_true``) has no recall
    and is ignored, though its predictions are errors of the true classes.
    With a single class in ``y_true`` the score is plain accuracy.

    Examples
    --------
    >>> from jtt_sklearn.metrics import worst_class_accuracy
    >>> y_true = [0, 0, 0, 0, 1, 1, 2, 2]
    >>> y_pred = [0, 0, 0, 1, 1, 0, 2, 2]
    >>> worst_class_accuracy(y_true, y_pred)  # class 1: 1 of 2 right
    0.5
    """
    y_true = _check_labels(y_true, "y_true")
    # Class indices as the groups: a class label of -1 is not the unknown group.
    _, class_index = np.unique(y_true, return_inverse=True)
    _, accuracies, _, _ = _group_table(y_true, y_pred, class_index, sample_weight)
    return float(accuracies.min())


def group_proportions(group_labels: ArrayLike) -> dict[int | str, float]:
    """Fraction of rows in each group.

    Use it on the training set's groups to get the ``group_weights`` of
    :func:`weighted_group_accuracy` (the Waterbirds convention). Those
    training groups come from the dataset's metadata; JTT itself never uses
    them for training.

    Parameters
    ----------
    group_labels : array-like of shape (n_samples,)
        Group of each row; none may be unknown (-1).

    Returns
    -------
    proportions : dict
        ``{group: fraction}`` in ascending group order; the fractions sum to 1.

    Examples
    --------
    >>> from jtt_sklearn.metrics import group_proportions
    >>> group_proportions([0, 0, 0, 1])
    {0: 0.75, 1: 0.25}
    """
    groups = _check_group_labels(group_labels)
    if groups.shape[0] == 0:
        raise ValueError("group_labels is empty; pass one group label per row.")
    if np.any(unknown_group_mask(groups)):
        raise ValueError(
            f"group_labels contains the unknown group UNKNOWN_GROUP ({UNKNOWN_GROUP}) or "
            f"{UNKNOWN_GROUP_NAME!r}. "
            "Group proportions need the group of every row: pass the groups from "
            "the dataset's metadata (for Waterbirds, the training set's groups), "
            "not the -1 placeholders of JTT's training rows."
        )
    unique_groups, counts = np.unique(groups, return_counts=True)
    return {group.item(): float(count / groups.shape[0]) for group, count in zip(unique_groups, counts)}


@_document
def weighted_group_accuracy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group_labels: ArrayLike,
    group_weights: Mapping[Any, float],
    sample_weight: ArrayLike | None = None,
) -> float:
    """Average of the per-group accuracies with given group weights.

    Waterbirds results are usually reported as the test accuracy of each
    group weighted by that group's share of the *training* set, so that the
    test set's balanced groups stand for the training distribution. Pass
    ``group_weights=group_proportions(train_groups)`` for that.

    {parameters}
    group_weights : dict
        ``{group: weight}`` with a non-negative weight for every group present
        in ``group_labels``. Weights need not sum to 1; they are normalised.
        A group with positive weight but no rows to score is an error.

    Returns
    -------
    score : float
        ``sum(w[g] * accuracy[g]) / sum(w[g])``.

    Examples
    --------
    >>> from jtt_sklearn.metrics import group_proportions, weighted_group_accuracy
    >>> weights = group_proportions([0, 0, 0, 1])
    >>> weighted_group_accuracy(
    ...     [0, 0, 1, 1], [0, 0, 1, 0], group_labels=[0, 0, 1, 1], group_weights=weights
    ... )
    0.875
    """
    if not isinstance(group_weights, Mapping):
        raise TypeError(
            "group_weights must be a dict {group: weight}, for example "
            f"group_proportions(train_groups); got {type(group_weights).__name__}."
        )
    groups, accuracies, _, _ = _group_table(y_true, y_pred, group_labels, sample_weight, min_groups=2)
    present = {group.item() for group in groups}
    missing = [group.item() for group in groups if group.item() not in group_weights]
    if missing:
        raise ValueError(
            f"group_weights has no weight for groups {missing}, which are present "
            "in group_labels. Give every scored group a weight (0 to ignore it)."
        )
    weights = np.array([group_weights[group.item()] for group in groups], dtype=float)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("group_weights must be finite and non-negative.")
    absent = sorted((g for g, w in group_weights.items() if g not in present and w > 0), key=str)
    if absent:
        raise ValueError(
            f"group_weights gives positive weight to groups {absent}, which have no "
            "rows to score, so their accuracy is unknown. Score rows from every "
            "weighted group, or set their weight to 0."
        )
    if weights.sum() == 0:
        raise ValueError("group_weights are all zero for the scored groups.")
    return float(np.dot(weights, accuracies) / weights.sum())


# output_dict=True gives a dict, the default a str.
@overload
def group_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group_labels: ArrayLike,
    sample_weight: ArrayLike | None = ...,
    group_names: Mapping[Any, str] | Sequence[str] | None = ...,
    digits: int = ...,
    output_dict: Literal[False] = ...,
) -> str: ...
@overload
def group_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group_labels: ArrayLike,
    sample_weight: ArrayLike | None = ...,
    group_names: Mapping[Any, str] | Sequence[str] | None = ...,
    digits: int = ...,
    output_dict: Literal[True],
) -> dict[str, Any]: ...
@overload
def group_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group_labels: ArrayLike,
    sample_weight: ArrayLike | None = ...,
    group_names: Mapping[Any, str] | Sequence[str] | None = ...,
    digits: int = ...,
    output_dict: bool = ...,
) -> str | dict[str, Any]: ...
@_document
def group_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    group_labels: ArrayLike,
    sample_weight: ArrayLike | None = None,
    group_names: Mapping[Any, str] | Sequence[str] | None = None,
    digits: int = 4,
    output_dict: bool = False,
) -> str | dict[str, Any]:
    """Table of the accuracy of each group, like ``classification_report``.

    Parameters
    ----------
    {scored_rows}
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights used in the accuracies (the ``n_samples`` column stays
        unweighted).
    group_names : dict or sequence of str, default=None
        ``{group: name}`` display names (for example ``{0: "landbird on
        land"}``), or a sequence indexed by integer group id such as
        :attr:`DatasetSplits.group_names <jtt_sklearn.datasets.DatasetSplits>`;
        every present group needs one. By default the group labels
        themselves are shown.
    digits : int, default=4
        Digits of the accuracies in the text report (``output_dict`` values
        are not rounded).
    output_dict : bool, default=False
        Return a dict instead of a string.

    Returns
    -------
    report : str or dict
        One row per group (``n_samples``, ``accuracy``), then the rows
        ``worst group (name)`` (the group with the lowest accuracy; the lowest
        group label wins ties), ``mean group`` (unweighted mean over groups) and
        ``overall`` (accuracy over all rows). As a dict, keys are the group
        names (strings) and ``"worst_group"``, ``"mean_group"``,
        ``"overall"``; the worst-group entry also holds its ``"group"``.

    Examples
    --------
    >>> from jtt_sklearn.metrics import group_report
    >>> y_true = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> y_pred = [0, 0, 0, 1, 1, 1, 0, 0]
    >>> groups = [0, 0, 0, 0, 1, 1, 2, 2]
    >>> print(group_report(y_true, y_pred, group_labels=groups))
                     n_samples  accuracy
    <BLANKLINE>
                  0          4    0.7500
                  1          2    1.0000
                  2          2    0.0000
    <BLANKLINE>
    worst group (2)          2    0.0000
         mean group          8    0.5833
            overall          8    0.6250
    <BLANKLINE>
    """
    groups, accuracies, counts, overall = _group_table(
        y_true, y_pred, group_labels, sample_weight, min_groups=2
    )
    names = _display_names(groups, group_names)

    worst = int(np.argmin(accuracies))  # first minimum: lowest group label on ties
    n_total = int(counts.sum())
    report = {
        name: {"n_samples": int(count), "accuracy": float(accuracy)}
        for name, accuracy, count in zip(names, accuracies, counts)
    }
    summary = {
        "worst_group": {
            "group": groups[worst].item(),
            "n_samples": int(counts[worst]),
            "accuracy": float(accuracies[worst]),
        },
        "mean_group": {"n_samples": n_total, "accuracy": float(accuracies.mean())},
        "overall": {"n_samples": n_total, "accuracy": overall},
    }
    if output_dict:
        report.update(summary)
        return report

    row_names = {
        "worst_group": f"worst group ({names[worst]})",
        "mean_group": "mean group",
        "overall": "overall",
    }
    width = max(len(name) for name in [*names, *row_names.values()])
    headers = ("n_samples", "accuracy")
    head_fmt = "{:>{width}s} " + " {:>9}" * len(headers)
    row_fmt = "{:>{width}s} " + " {:>9}" + " {:>9.{digits}f}"
    lines = [head_fmt.format("", *headers, width=width), ""]
    for name, row in report.items():
        lines.append(row_fmt.format(name, row["n_samples"], row["accuracy"], width=width, digits=digits))
    lines.append("")
    for key, label in row_names.items():
        row = summary[key]
        lines.append(row_fmt.format(label, row["n_samples"], row["accuracy"], width=width, digits=digits))
    return "\n".join(lines) + "\n"


def _display_names(groups, group_names):
    """The name shown for each of the sorted unique ``groups`` (``group_names`` of the reports)."""
    if group_names is None:
        names = [str(group.item()) for group in groups]
    else:
        if not isinstance(group_names, Mapping):
            if isinstance(group_names, str) or not hasattr(group_names, "__len__"):
                raise TypeError(
                    "group_names must be a dict {group: name} or a sequence of names "
                    f"indexed by integer group id; got {type(group_names).__name__}."
                )
            # A sequence, such as DatasetSplits.group_names, names group ids 0, 1, ...
            group_names = dict(enumerate(group_names))
        unnamed = [group.item() for group in groups if group.item() not in group_names]
        if unnamed:
            raise ValueError(
                f"group_names has no name for groups {unnamed}; give every group "
                "present in group_labels a name."
            )
        names = [str(group_names[group.item()]) for group in groups]
    if len(set(names)) != len(names):
        raise ValueError(f"Group names must be unique; got {names}.")
    return names
