"""Group ids built from a label and a spurious attribute."""

from __future__ import annotations

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


def make_groups(y: ArrayLike, attribute: ArrayLike) -> np.ndarray:
    """Build the paper's (label, attribute) group ids.

    Group ``g = label_index * n_attributes + attribute_index``, where the
    indices are positions in the sorted unique values of ``y`` and
    ``attribute``. With a binary label and a binary attribute this gives the
    four groups of Waterbirds and CelebA.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    attribute : array-like of shape (n_samples,)
        The spurious attribute (for example the background of a bird image).

    Returns
    -------
    group_labels : ndarray of shape (n_samples,), dtype int64
        Integer group ids in ``[0, n_classes * n_attributes)``.

    Examples
    --------
    >>> from jtt_sklearn.metrics import make_groups
    >>> make_groups([0, 0, 1, 1], ["land", "water", "land", "water"])
    array([0, 1, 2, 3])
    """
    labels, attribute_values = column_or_1d(y), column_or_1d(attribute)
    if labels.shape[0] != attribute_values.shape[0]:
        raise ValueError(
            f"y and attribute must have the same length; got {labels.shape[0]} and "
            f"{attribute_values.shape[0]}. Pass one attribute value per row of y."
        )
    _, label_index = np.unique(labels, return_inverse=True)
    attributes, attribute_index = np.unique(attribute_values, return_inverse=True)
    return (label_index * len(attributes) + attribute_index).astype(np.int64)
