"""MultiNLI and CivilComments read from CSV files the user already has."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._base import (
    DatasetSplits,
    GroupSplit,
    _group_ids,
    _int_column,
    _read_csv,
    _split_codes,
)

NEGATION_WORDS = ("nobody", "no", "never", "nothing")
"""Words whose presence in the hypothesis defines MultiNLI's spurious attribute.

The list of Sagawa et al. (2020), after Gururangan et al. (2018).
"""

_NEGATION_RE = re.compile(r"\b(?:" + "|".join(NEGATION_WORDS) + r")\b", re.IGNORECASE)

_MNLI_LABELS = ("contradiction", "entailment", "neutral")


def _mnli_labels(values, path):
    """gold_label as 0/1/2, written as names or as integers; any other cell is named with its row."""
    by_name = {name: i for i, name in enumerate(_MNLI_LABELS)} | {str(i): i for i in range(3)}
    labels = []
    for row, value in enumerate(values, 1):
        text = str(value).strip().lower()
        text = text[:-2] if text.endswith(".0") else text
        if text not in by_name:
            raise ValueError(
                f"{path}: column 'gold_label', data row {row} (below the header) holds {value!r}; "
                f"allowed values are {', '.join(_MNLI_LABELS)} or 0, 1, 2. MultiNLI marks pairs "
                "without a consensus label with '-': drop those rows."
            )
        labels.append(by_name[text])
    return np.array(labels, dtype=np.int64)


_MULTINLI_SOURCE = (
    "jtt-sklearn does not download MultiNLI. Build the CSV from the MultiNLI "
    "release (https://cims.nyu.edu/~sbowman/multinli/) with columns sentence1 "
    "(premise), sentence2 (hypothesis), gold_label (0 = contradiction, "
    "1 = entailment, 2 = neutral, or those words) and split (0/1/2 or "
    "train/val/test, e.g. the random split of group-DRO's "
    "metadata_random.csv); an optional column sentence2_has_negation (0/1) "
    "overrides the computed attribute."
)


def _splits_from_rows(X, y, attribute, split, n_classes, meta):
    groups = _group_ids(y, attribute, n_classes, 2)
    train, validation, test = (
        GroupSplit(X[split == code], y[split == code], groups[split == code]) for code in (0, 1, 2)
    )
    return DatasetSplits(train, validation, test, **meta)


def has_negation(texts: Sequence[str] | np.ndarray) -> np.ndarray:
    """Whether each text contains one of :data:`NEGATION_WORDS` as a word.

    Case-insensitive whole-word match, so "No", "never." and "no-one" count
    but "nose" and "knobody" do not.

    Parameters
    ----------
    texts : sequence of str

    Returns
    -------
    mask : ndarray of shape (n_samples,), dtype bool

    Examples
    --------
    >>> from jtt_sklearn.datasets import has_negation
    >>> has_negation(["Nobody came.", "The nose is red.", "I never lie"])
    array([ True, False,  True])
    """
    return np.array([bool(_NEGATION_RE.search(t)) for t in texts], dtype=bool)


def load_multinli(root: str | os.PathLike[str], *, filename: str = "multinli.csv") -> DatasetSplits:
    """Load MultiNLI with negation in the hypothesis as the spurious attribute.

    The group-DRO release of MultiNLI ships only pre-computed BERT features
    and ``metadata_random.csv`` (``gold_label, sentence2_has_negation,
    split``), not the sentences. This loader reads one CSV,
    ``<root>/<filename>``, with the columns

    * ``sentence1`` - the premise,
    * ``sentence2`` - the hypothesis,
    * ``gold_label`` - 0 = contradiction, 1 = entailment, 2 = neutral (the
      group-DRO coding; the words themselves are accepted too),
    * ``split`` - 0/1/2 or train/val/test,
    * ``sentence2_has_negation`` (optional) - 0/1; when present it is used as
      the attribute, otherwise the attribute is computed with
      :func:`has_negation`: the hypothesis contains one of "nobody", "no",
      "never", "nothing" as a whole word, case-insensitively.

    Nothing is downloaded and the given split is kept.

    Groups (``gold_label * 2 + negation``), six in all: 0 = contradiction
    without negation, 1 = contradiction with negation, 2 = entailment
    without, 3 = entailment with, 4 = neutral without, 5 = neutral with.
    Negation is over-represented among contradictions.

    Parameters
    ----------
    root : str or path-like
        Folder holding the CSV.
    filename : str, default="multinli.csv"
        Name of the CSV inside ``root``.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` as ``(X, y, group_labels)`` with ``X`` an
        object array of shape ``(n, 2)``: premise and hypothesis.
        :func:`encode_texts` encodes such pairs jointly.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_multinli
    >>> splits = load_multinli("data/multinli")  # doctest: +SKIP
    >>> splits.n_groups  # doctest: +SKIP
    6
    """
    root = Path(root)
    path = root / filename
    if not path.is_file() and (root / "metadata_random.csv").is_file():
        raise FileNotFoundError(
            f"MultiNLI CSV not found: {path}. {root / 'metadata_random.csv'} is "
            "group-DRO's metadata file, which has no sentences. " + _MULTINLI_SOURCE
        )
    table = _read_csv(
        path,
        ("sentence1", "sentence2", "gold_label", "split"),
        _MULTINLI_SOURCE,
        optional=("sentence2_has_negation",),
    )
    y = _mnli_labels(table["gold_label"], path)
    if "sentence2_has_negation" in table:
        attribute = _int_column(
            table["sentence2_has_negation"], path, "sentence2_has_negation", allowed={0, 1}
        )
    else:
        attribute = has_negation(table["sentence2"]).astype(np.int64)
    X = np.empty((len(y), 2), dtype=object)
    X[:, 0] = table["sentence1"]
    X[:, 1] = table["sentence2"]
    split = _split_codes(table["split"], path, "split")
    return _splits_from_rows(
        X,
        y,
        attribute,
        split,
        3,
        dict(
            name="multinli",
            label_names=_MNLI_LABELS,
            attribute_names=("no negation", "negation"),
            description=(
                "MultiNLI. Label: contradiction / entailment / neutral. "
                "Attribute: a negation word in the hypothesis."
            ),
        ),
    )


CIVILCOMMENTS_IDENTITIES = (
    "male", "female", "LGBTQ", "christian", "muslim", "other_religions",
    "black", "white",
)  # fmt: skip
"""Identity columns of WILDS CivilComments used for the spurious attribute."""

_CIVIL_SOURCE = (
    "jtt-sklearn does not download CivilComments. Get the WILDS version "
    "(https://wilds.stanford.edu, civilcomments_v1.0), whose "
    "all_data_with_identities.csv has the columns comment_text, toxicity, "
    "split (train/val/test) and the identity columns " + ", ".join(CIVILCOMMENTS_IDENTITIES) + "."
)


def load_civilcomments(
    root: str | os.PathLike[str], *, filename: str = "all_data_with_identities.csv"
) -> DatasetSplits:
    """Load WILDS CivilComments: toxicity, with identity mentions as the attribute.

    Reads ``<root>/<filename>`` (WILDS' ``all_data_with_identities.csv``):
    ``comment_text``, ``toxicity`` (a score in [0, 1]), ``split``
    (train/val/test, kept as given) and the identity columns ``male, female,
    LGBTQ, christian, muslim, other_religions, black, white`` (scores in
    [0, 1]). Nothing is downloaded.

    * **Label**: ``y = 1`` (toxic) when ``toxicity >= 0.5``.
    * **Attribute**: 1 when *any* of the eight identities is mentioned, i.e.
      has a score ``>= 0.5``; an empty identity cell counts as not
      mentioned.
    * **Groups** (``y * 2 + attribute``): 0 = non-toxic, no identity;
      1 = non-toxic, identity; 2 = toxic, no identity; 3 = toxic, identity.

    This is a simplification: the JTT paper evaluates on 16 overlapping
    groups (each identity crossed with the label) and reports the worst of
    them. Build those from the identity columns of the CSV if you need the
    paper's numbers.

    Parameters
    ----------
    root : str or path-like
        Folder holding the CSV (e.g. ``.../civilcomments_v1.0``).
    filename : str, default="all_data_with_identities.csv"
        Name of the CSV inside ``root``.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` as ``(X, y, group_labels)`` with ``X`` a
        1-D object array of comments.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_civilcomments
    >>> splits = load_civilcomments("data/civilcomments_v1.0")  # doctest: +SKIP
    """
    path = Path(root) / filename
    table = _read_csv(
        path,
        ("comment_text", "toxicity", "split") + CIVILCOMMENTS_IDENTITIES,
        _CIVIL_SOURCE,
    )

    def scores(column, empty):
        try:
            values = np.array([float(v) if v.strip() else empty for v in table[column]])
        except ValueError as exc:
            raise ValueError(f"{path}: column {column!r} must hold numbers ({exc}).") from None
        if np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values))[0])
            raise ValueError(f"{path}: column {column!r} has a missing value (data row {row + 1}).")
        return values

    # A toxicity score is required; an empty identity cell means "not mentioned".
    y = (scores("toxicity", np.nan) >= 0.5).astype(np.int64)
    mentioned = np.zeros(len(y), dtype=bool)
    for column in CIVILCOMMENTS_IDENTITIES:
        mentioned |= scores(column, 0.0) >= 0.5
    X = np.array(table["comment_text"], dtype=object)
    split = _split_codes(table["split"], path, "split")
    return _splits_from_rows(
        X,
        y,
        mentioned.astype(np.int64),
        split,
        2,
        dict(
            name="civilcomments",
            label_names=("non-toxic", "toxic"),
            attribute_names=("no identity", "identity"),
            description=(
                "WILDS CivilComments. Label: toxicity >= 0.5. Attribute: any of "
                + ", ".join(CIVILCOMMENTS_IDENTITIES)
                + " >= 0.5 (the paper's 16 overlapping groups are not built)."
            ),
        ),
    )
