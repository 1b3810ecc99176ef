"""Group ids built from a label and a spurious attribute."""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import column_or_1d

UNKNOWN_GROUP = -1
"""Group id of a row whose group is not known (the training rows in JTT's protocol)."""

UNKNOWN_GROUP_NAME = "<unknown>"
"""The same, where groups are named by strings."""


def unknown_groups(n, like):
    """``n`` rows of the unknown group: ``UNKNOWN_GROUP_NAME`` when ``like`` holds group names, else -1."""
    if np.asarray(like).dtype.kind in "USO":
        return np.full(n, UNKNOWN_GROUP_NAME)
    return np.full(n, UNKNOWN_GROUP, dtype=np.int64)


def unknown_group_mask(groups):
    """Which entries of a checked group-label array are the unknown group (-1 or ``"<unknown>"``)."""
    groups = np.asarray(groups)
    if groups.dtype.kind in "iu":
        return groups == UNKNOWN_GROUP
    if groups.dtype.kind in "US":
        return groups == UNKNOWN_GROUP_NAME
    return np.zeros(groups.shape, dtype=bool)


def _missing(values: np.ndarray) -> np.ndarray:
    """Which entries are missing: NaN, None, ``pd.NA`` or NaT (pandas is not needed to tell)."""
    kind = values.dtype.kind
    if kind in "fc":
        return np.isnan(values)
    if kind in "mM":
        return np.isnat(values)
    if kind == "O":
        return np.fromiter((_is_missing(value) for value in values), dtype=bool, count=values.shape[0])
    return np.zeros(values.shape[0], dtype=bool)


def _is_missing(value: Any) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pd.NA, pd.NaT
        return True
    try:
        return bool(value != value)  # NaN, in any float type
    except (TypeError, ValueError):  # comparisons that return no single bool
        return False


def _check_no_missing(values: np.ndarray, name: str) -> None:
    missing = np.flatnonzero(_missing(values))
    if missing.size:
        raise ValueError(
            f"{name} has {missing.size} missing value{'s' if missing.size > 1 else ''} (NaN, None, "
            f"pd.NA or NaT), the first at row {missing[0]}. A missing value is not a group of its "
            "own: drop those rows, or impute the missing values, before calling make_groups."
        )


def _positions(values, known, name, known_name):
    """``(order, index)``: the values in id order, and each row's position in it.

    ``known`` (the caller's ``classes`` or ``attribute_values``) fixes the order; by default it
    is the sorted unique values present.
    """
    present, inverse = np.unique(values, return_inverse=True)
    if known is None:
        return present, inverse.reshape(-1)
    order = column_or_1d(known)
    _check_no_missing(order, known_name)
    position = {value: index for index, value in enumerate(order.tolist())}
    if len(position) != order.shape[0]:
        raise ValueError(f"{known_name} must not repeat a value; got {order.tolist()!r}.")
    unknown = [value for value in present.tolist() if value not in position]
    if unknown:
        raise ValueError(
            f"{name} holds values that are not in {known_name}: {unknown[:5]!r}. Pass every "
            f"value {name} can take in {known_name} (the same list for every split)."
        )
    table = np.array([position[value] for value in present.tolist()], dtype=np.int64)
    return order, table[inverse.reshape(-1)]


@overload
def make_groups(
    y: ArrayLike,
    attribute: ArrayLike,
    *,
    classes: ArrayLike | None = ...,
    attribute_values: ArrayLike | None = ...,
    return_names: Literal[False] = ...,
) -> np.ndarray: ...
@overload
def make_groups(
    y: ArrayLike,
    attribute: ArrayLike,
    *,
    classes: ArrayLike | None = ...,
    attribute_values: ArrayLike | None = ...,
    return_names: Literal[True],
) -> tuple[np.ndarray, tuple[str, ...]]: ...
def make_groups(
    y: ArrayLike,
    attribute: ArrayLike,
    *,
    classes: ArrayLike | None = None,
    attribute_values: ArrayLike | None = None,
    return_names: bool = False,
) -> np.ndarray | tuple[np.ndarray, tuple[str, ...]]:
    """Build the paper's (label, attribute) group ids.

    Group ``g = label_index * n_attributes + attribute_index``, where the
    indices are positions in ``classes`` and ``attribute_values``: by default
    the sorted unique values of ``y`` and ``attribute``. With a binary label
    and a binary attribute this gives the four groups of Waterbirds and
    CelebA.

    By default the ids depend on the values present, so a split that lacks
    one attribute value (or class) numbers its groups differently from one
    that has it. Pass the same ``classes`` and ``attribute_values`` for every
    split to give a (class, attribute) pair the same id everywhere.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    attribute : array-like of shape (n_samples,)
        The spurious attribute (for example the background of a bird image).
    classes : array-like of shape (n_classes,), default=None
        Every class, in id order; None takes the sorted unique values of
        ``y``.
    attribute_values : array-like of shape (n_attributes,), default=None
        Every attribute value, in id order; None takes the sorted unique
        values of ``attribute``.
    return_names : bool, default=False
        Also return the name of each group id.

    Returns
    -------
    group_labels : ndarray of shape (n_samples,), dtype int64
        Integer group ids in ``[0, n_classes * n_attributes)``.
    group_names : tuple of str of length n_classes * n_attributes
        Only with ``return_names=True``: ``group_names[g]`` is
        ``"y=<class>, <attribute value>"`` for group ``g``, for the
        ``group_names`` of :func:`~jtt_sklearn.metrics.group_report` and
        :func:`~jtt_sklearn.diagnostics.error_set_report`. A pair with no
        rows has a name too.

    Raises
    ------
    ValueError
        If ``y`` or ``attribute`` has a missing value (NaN, None, ``pd.NA``,
        NaT): drop or impute those rows first. If they differ in length, or
        hold a value missing from ``classes`` or ``attribute_values``.

    Examples
    --------
    >>> from jtt_sklearn.metrics import make_groups
    >>> make_groups([0, 0, 1, 1], ["land", "water", "land", "water"])
    array([0, 1, 2, 3])

    A test split without land birds of class 1 keeps the ids of the
    validation split when both name every value:

    >>> groups, names = make_groups(
    ...     [0, 0, 1], ["land", "water", "water"],
    ...     classes=[0, 1], attribute_values=["land", "water"], return_names=True,
    ... )
    >>> groups
    array([0, 1, 3])
    >>> names
    ('y=0, land', 'y=0, water', 'y=1, land', 'y=1, water')
    """
    labels, attributes = column_or_1d(y), column_or_1d(attribute)
    if labels.shape[0] != attributes.shape[0]:
        raise ValueError(
            f"y and attribute must have the same length; got {labels.shape[0]} and "
            f"{attributes.shape[0]}. Pass one attribute value per row of y."
        )
    _check_no_missing(labels, "y")
    _check_no_missing(attributes, "attribute")
    class_order, label_index = _positions(labels, classes, "y", "classes")
    value_order, attribute_index = _positions(attributes, attribute_values, "attribute", "attribute_values")
    groups = (label_index * len(value_order) + attribute_index).astype(np.int64)
    if not return_names:
        return groups
    names = tuple(f"y={label}, {value}" for label in class_order.tolist() for value in value_order.tolist())
    return groups, names
