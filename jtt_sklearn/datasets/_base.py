"""Shared return types and the samplers that plant or pick a spurious correlation."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..utils._groups import make_groups


class GroupSplit(NamedTuple):
    """One split of a dataset: features, labels and group ids.

    A ``NamedTuple``, so ``X, y, group_labels = split`` works.

    Attributes
    ----------
    X : ndarray or torch Dataset
        Features. Image datasets read from disk give a lazily loading
        :class:`~jtt_sklearn.datasets.ImageFolderDataset` instead of an array.
    y : ndarray of shape (n_samples,), dtype int64
        Class labels ``0 .. n_classes - 1``.
    group_labels : ndarray of shape (n_samples,), dtype int64
        Group ids ``label * n_attributes + attribute``, as built by
        :func:`~jtt_sklearn.utils.make_groups`.
    """

    X: Any
    y: np.ndarray
    group_labels: np.ndarray


@dataclass(frozen=True, repr=False, eq=False)
class DatasetSplits:
    """Train, validation and test splits plus what their groups mean.

    Iterating yields the three :class:`GroupSplit` objects, so both
    ``train, val, test = splits`` and
    ``(X_tr, y_tr, g_tr), (X_va, y_va, g_va), (X_te, y_te, g_te) = splits``
    work. The metadata are plain attributes.

    Attributes
    ----------
    train, validation, test : GroupSplit
        The three splits.
    name : str
        Short name of the dataset.
    label_names : tuple of str
        Meaning of each label value, indexed by label.
    attribute_names : tuple of str
        Meaning of each spurious-attribute value, indexed by attribute.
    feature_names : tuple of str or None
        Column names of ``X`` when it is a 2-D table with named columns.
    spurious_strength : float or None
        Share of training rows whose attribute is the one aligned with their
        label (see each loader); None when the training data keep their
        natural correlation.
    description : str
        One paragraph on how the data were built.
    """

    train: GroupSplit
    validation: GroupSplit
    test: GroupSplit
    name: str
    label_names: tuple
    attribute_names: tuple
    feature_names: tuple | None = None
    spurious_strength: float | None = None
    description: str = ""

    @property
    def n_classes(self) -> int:
        """Number of label values."""
        return len(self.label_names)

    @property
    def n_attributes(self) -> int:
        """Number of spurious-attribute values."""
        return len(self.attribute_names)

    @property
    def n_groups(self) -> int:
        """Number of (label, attribute) groups, ``n_classes * n_attributes``."""
        return self.n_classes * self.n_attributes

    @property
    def group_names(self) -> tuple[str, ...]:
        """Name of each group id, e.g. ``"y=0 (digit<5), red"``."""
        return tuple(
            f"y={label} ({label_name}), {attribute_name}"
            for label, label_name in enumerate(self.label_names)
            for attribute_name in self.attribute_names
        )

    def group_counts(self) -> dict[str, np.ndarray]:
        """Number of rows of each group in each split.

        Returns
        -------
        counts : dict of str to ndarray of shape (n_groups,)
            Keys ``"train"``, ``"validation"`` and ``"test"``.
        """
        return {
            name: np.bincount(split.group_labels, minlength=self.n_groups)
            for name, split in zip(("train", "validation", "test"), self)
        }

    def __iter__(self) -> Iterator[GroupSplit]:
        return iter((self.train, self.validation, self.test))

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int) -> GroupSplit:
        return (self.train, self.validation, self.test)[index]

    def __repr__(self):
        counts = self.group_counts()
        sizes = ", ".join(f"{name}={int(c.sum())}" for name, c in counts.items())
        return f"DatasetSplits(name={self.name!r}, n_groups={self.n_groups}, {sizes})"


# --------------------------------------------------------------------------
# Private helpers shared by the loaders.


def _check_strength(spurious_strength, *, allow_none=False):
    if spurious_strength is None and allow_none:
        return None
    if (
        not isinstance(spurious_strength, numbers.Real)
        or isinstance(spurious_strength, bool)
        or not 0.0 <= float(spurious_strength) <= 1.0
    ):
        hint = " or None" if allow_none else ""
        raise ValueError(
            "spurious_strength must be a float in [0, 1]" + hint + "; got "
            f"{spurious_strength!r}. 0.95 means 95% of each class carries the "
            "attribute value aligned with it; 0.5 means no correlation."
        )
    return float(spurious_strength)


def _check_fraction(value, name):
    if not isinstance(value, numbers.Real) or not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be a float in (0, 1); got {value!r}.")
    return float(value)


def _group_ids(y, attribute, n_classes, n_attributes):
    """Group ids that mean the same thing in every split.

    ``make_groups`` indexes the values *present* in its input, so a split that
    happened to lack one attribute value would get shifted ids. Prepending one
    row of every (label, attribute) pair pins the indexing; the rows are
    removed again afterwards.
    """
    grid_y = np.repeat(np.arange(n_classes), n_attributes)
    grid_a = np.tile(np.arange(n_attributes), n_classes)
    groups = make_groups(
        np.concatenate([grid_y, np.asarray(y, dtype=np.int64)]),
        np.concatenate([grid_a, np.asarray(attribute, dtype=np.int64)]),
    )
    return groups[n_classes * n_attributes :]


def _assign_attribute(y, n_attributes, spurious_strength, rng):
    """Draw an attribute per row so that it follows the label.

    In each class ``c`` exactly ``round((1 - spurious_strength) * n_c)`` rows
    (chosen at random) get an attribute other than the aligned one,
    ``c % n_attributes``; the rest get the aligned one. Fixed counts instead
    of coin flips make the realised correlation equal the requested one.
    """
    y = np.asarray(y)
    attribute = np.empty(len(y), dtype=np.int64)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        aligned = int(label) % n_attributes
        n_minority = int(round((1.0 - spurious_strength) * len(rows)))
        attribute[rows] = aligned
        minority = rng.choice(rows, size=n_minority, replace=False)
        others = np.array([a for a in range(n_attributes) if a != aligned])
        attribute[minority] = others[rng.randint(len(others), size=n_minority)]
    return attribute


def _subsample_to_strength(y, attribute, n_attributes, spurious_strength, rng):
    """Largest subsample in which each class has the requested correlation.

    For a naturally occurring attribute: in class ``c`` keep rows so that a
    share ``spurious_strength`` has the aligned attribute ``c % n_attributes``.
    Returns sorted row indices.
    """
    keep = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        is_aligned = attribute[rows] == int(label) % n_attributes
        aligned, other = rows[is_aligned], rows[~is_aligned]
        # Size n of the class subsample is limited by both pools.
        limits = []
        if spurious_strength > 0:
            limits.append(len(aligned) / spurious_strength)
        if spurious_strength < 1:
            limits.append(len(other) / (1.0 - spurious_strength))
        n = int(np.floor(min(limits) + 1e-9))
        n_aligned = min(len(aligned), int(round(spurious_strength * n)))
        n_other = min(len(other), n - n_aligned)
        if n_aligned + n_other == 0:
            raise ValueError(
                f"Class {label} has no rows to build a training set with "
                f"spurious_strength={spurious_strength}; use a value strictly "
                "between 0 and 1 or spurious_strength=None."
            )
        keep.append(rng.choice(aligned, size=n_aligned, replace=False))
        keep.append(rng.choice(other, size=n_other, replace=False))
    return np.sort(np.concatenate(keep))


def _balanced_indices(groups, n_groups, rng, n_per_group=None):
    """Draw the same number of rows from every group, without replacement.

    Uses the size of the smallest group unless ``n_per_group`` is given.
    Returns one index array per group (each shuffled).
    """
    pools = [rng.permutation(np.flatnonzero(groups == g)) for g in range(n_groups)]
    smallest = min(len(p) for p in pools)
    if n_per_group is None:
        n_per_group = smallest
    if smallest < n_per_group or n_per_group == 0:
        raise ValueError(
            f"Cannot draw the same number of rows ({n_per_group}) from every "
            f"group: the smallest group has {smallest} rows. The evaluation "
            "data are too small; use larger validation/test shares or data."
        )
    return [p[:n_per_group] for p in pools]


def _stratified_three_way(strata, validation_size, test_size, rng):
    """Split row indices into train / validation / test, stratified.

    Every stratum (e.g. each digit) is cut in the same proportions, so no
    row lands in two splits. Returns three sorted index arrays.
    """
    train, validation, test = [], [], []
    for value in np.unique(strata):
        rows = rng.permutation(np.flatnonzero(strata == value))
        n_val = int(round(validation_size * len(rows)))
        n_test = int(round(test_size * len(rows)))
        validation.append(rows[:n_val])
        test.append(rows[n_val : n_val + n_test])
        train.append(rows[n_val + n_test :])
    return tuple(np.sort(np.concatenate(part)) for part in (train, validation, test))


def _injected_attribute_splits(
    y, strata, *, spurious_strength, validation_size, test_size, n_attributes, rng
):
    """Plan the rows of a dataset whose spurious attribute we draw ourselves.

    The original items (images, titles) are first split three ways, so an
    item never appears in two splits. In train each item appears once with an
    attribute that follows its label at ``spurious_strength``. In validation
    and test the classes are cut to the same number of items and every item
    appears once *per attribute value*, which makes the attribute exactly
    independent of the label and of the item itself.

    Returns
    -------
    plan : dict of str to (ndarray, ndarray)
        For each split, the index of the original item of each row and the
        attribute of the row.
    """
    if validation_size + test_size >= 1.0:
        raise ValueError(
            "validation_size + test_size must be below 1 to leave rows for "
            f"training; got {validation_size} + {test_size}."
        )
    train, validation, test = _stratified_three_way(strata, validation_size, test_size, rng)
    plan = {"train": (train, _assign_attribute(y[train], n_attributes, spurious_strength, rng))}
    for name, rows in (("validation", validation), ("test", test)):
        per_class = _balanced_indices(y[rows], len(np.unique(y)), rng)
        items = np.sort(rows[np.concatenate(per_class)])
        plan[name] = (
            np.tile(items, n_attributes),
            np.repeat(np.arange(n_attributes), len(items)),
        )
    # Shuffle row order so that no split is sorted by class or attribute.
    for name, (items, attribute) in plan.items():
        order = rng.permutation(len(items))
        plan[name] = (items[order], attribute[order])
    return plan


def _render_planned_splits(plan, y, render, n_attributes=2):
    """The train, validation and test GroupSplits of a plan from :func:`_injected_attribute_splits`.

    ``render(items, attribute)`` builds the features of each split's rows, in split order (it may
    draw from the loader's random state, which then advances as in the loaders written out).
    """
    n_classes = len(np.unique(y))
    splits = []
    for split in ("train", "validation", "test"):
        items, attribute = plan[split]
        labels = y[items]
        splits.append(
            GroupSplit(
                render(items, attribute), labels, _group_ids(labels, attribute, n_classes, n_attributes)
            )
        )
    return tuple(splits)


# Official split columns use 0/1/2 (Waterbirds, CelebA, group-DRO MultiNLI)
# or names (WILDS CivilComments).
_SPLIT_CODES = {
    "0": 0, "train": 0,
    "1": 1, "val": 1, "valid": 1, "validation": 1, "dev": 1,
    "2": 2, "test": 2,
}  # fmt: skip


def _split_codes(values, path, column):
    """Map a split column to 0 (train), 1 (validation), 2 (test); no row skipped."""
    codes = np.empty(len(values), dtype=np.int64)
    unknown = set()
    for i, value in enumerate(values):
        key = value.strip().lower()
        if key.endswith(".0"):  # "1.0" written by pandas for an int column
            key = key[:-2]
        code = _SPLIT_CODES.get(key)
        if code is None:
            unknown.add(value)
            continue
        codes[i] = code
    if unknown:
        raise ValueError(
            f"{path}: column {column!r} has values {sorted(unknown)[:5]} that "
            "are not a split; expected 0/1/2 or train/val/test."
        )
    return codes


def _read_csv(path, required, source, optional=()):
    """Read some columns of a CSV file into a dict of name to list of strings.

    ``required`` columns must be present, ``optional`` ones are kept when
    they are; other columns are not stored (CivilComments has dozens).
    ``source`` says where the file comes from and goes into error messages.
    """
    import csv

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"File not found: {path}. {source}")
    # utf-8-sig: some re-saved copies start with a byte-order mark.
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise ValueError(f"{path} is empty; expected a header row.") from None
        missing = [name for name in required if name not in header]
        if missing:
            raise ValueError(f"{path} lacks the column(s) {missing}; found {header}. {source}")
        wanted = [name for name in list(required) + list(optional) if name in header]
        positions = [header.index(name) for name in wanted]
        columns: dict[str, list[str]] = {name: [] for name in wanted}
        lists = [columns[name] for name in wanted]
        for line_number, row in enumerate(reader, 2):
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}, row {line_number}: {len(row)} fields for {len(header)} columns.")
            for values, position in zip(lists, positions):
                values.append(row[position])
    return columns


def _int_column(values, path, column, allowed=None):
    """Parse a column of integers written as "1", "1.0" or "-1"; "1.5", "inf" or "nan" are errors."""
    parsed = []
    for row, value in enumerate(values, 1):
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is None or not np.isfinite(number) or number != int(number) or abs(number) >= 2**63:
            raise ValueError(
                f"{path}: column {column!r} must hold integers, but data row {row} (below the "
                f"header) holds {value!r}. "
                "Fix that cell (the files' own values are integers such as 0, 1 or -1)."
            )
        parsed.append(int(number))
    array = np.array(parsed, dtype=np.int64)
    if allowed is not None:
        bad = sorted(set(np.unique(array).tolist()) - set(allowed))
        if bad:
            raise ValueError(f"{path}: column {column!r} has values {bad}; expected {sorted(allowed)}.")
    return array
