"""load_colored_digits: coloured 8x8 digits whose colour is a planted shortcut."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from jtt_sklearn.datasets import load_colored_digits

from .._fixtures import (
    aligned_share,
    check_layout,
    per_group_accuracy,
    spurious_attribute,
)


def test_colored_digits_layout_and_names():
    splits = load_colored_digits()
    check_layout(splits)
    assert splits.train.X.shape[1] == 128 and splits.train.X.dtype == np.float32
    assert splits.group_names == (
        "y=0 (digit<5), red", "y=0 (digit<5), green",
        "y=1 (digit>=5), red", "y=1 (digit>=5), green",
    )  # fmt: skip
    images = load_colored_digits(as_images=True)
    assert images.test.X.shape[1:] == (2, 8, 8)
    np.testing.assert_array_equal(images.test.X.reshape(len(images.test.X), -1), splits.test.X)


@pytest.mark.parametrize("strength", [0.95, 0.8, 0.5])
def test_colored_digits_train_correlation_matches_strength(strength):
    splits = load_colored_digits(spurious_strength=strength)
    for label in (0, 1):
        in_class = splits.train.y == label
        share = np.mean(spurious_attribute(splits.train)[in_class] == label)
        assert abs(share - strength) < 0.01
    counts = splits.group_counts()["train"]
    if strength == 0.95:
        assert 0 < counts[1] < 0.1 * counts[0] and 0 < counts[2] < 0.1 * counts[3]


def test_colored_digits_validation_and_test_are_balanced():
    for split in load_colored_digits()[1:]:
        counts = np.bincount(split.group_labels, minlength=4)
        assert len(set(counts.tolist())) == 1 and counts[0] > 50
        assert aligned_share(split) == 0.5


def test_colored_digits_no_image_in_two_splits():
    from sklearn.datasets import load_digits

    splits = load_colored_digits(noise=0.0, as_images=True)
    source = load_digits().images / 16.0
    keys, counts = np.unique(source.reshape(len(source), -1), axis=0, return_counts=True)
    duplicated = {k.astype(np.float32).tobytes() for k in keys[counts > 1]}

    def originals(split):
        # noise=0: the full-intensity channel is the original grey image
        grey = split.X[np.arange(len(split.X)), spurious_attribute(split)]
        return {g.reshape(-1).tobytes() for g in grey} - duplicated

    train, val, test = (originals(s) for s in splits)
    assert not train & val and not train & test and not val & test
    # and the other channel holds the faint copy of the same image
    X = splits.test.X
    attr = spurious_attribute(splits.test)
    rows = np.arange(len(X))
    np.testing.assert_allclose(X[rows, 1 - attr], 0.5 * X[rows, attr])


def test_colored_digits_deterministic_given_random_state():
    a, b = load_colored_digits(random_state=3), load_colored_digits(random_state=3)
    for split_a, split_b in zip(a, b):
        for part_a, part_b in zip(split_a, split_b):
            np.testing.assert_array_equal(part_a, part_b)
    c = load_colored_digits(random_state=4)
    assert not np.array_equal(a.train.X, c.train.X)


def test_colored_digits_erm_learns_the_shortcut():
    train, _, test = load_colored_digits()
    model = LogisticRegression(max_iter=1000).fit(train.X, train.y)
    average, per_group = per_group_accuracy(model, test)
    assert min(per_group) < average - 0.1
    # the groups where colour agrees with the label are easy
    assert per_group[0] > 0.9 and per_group[3] > 0.9


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"spurious_strength": 1.5}, "spurious_strength"),
        ({"spurious_strength": "high"}, "spurious_strength"),
        ({"validation_size": 0.5, "test_size": 0.5}, "validation_size \\+ test_size"),
        ({"test_size": 0.0}, "test_size"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_colored_digits_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_colored_digits(**kwargs)


def test_colored_digits_full_strength_leaves_minorities_empty():
    counts = load_colored_digits(spurious_strength=1.0).group_counts()
    assert counts["train"][1] == counts["train"][2] == 0
    assert (counts["test"] > 0).all()
