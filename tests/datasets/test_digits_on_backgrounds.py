"""load_digits_on_backgrounds: digits on photographs, a Waterbirds-like shortcut that ships offline."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from jtt_sklearn.datasets import load_digits_on_backgrounds

from .._fixtures import aligned_share, check_layout, spurious_attribute


@pytest.fixture(scope="module")
def small():
    return load_digits_on_backgrounds(image_size=16)


def test_layout_shapes_and_names(small):
    check_layout(small)
    for split in small:
        assert split.X.shape[1:] == (3, 16, 16) and split.X.dtype == np.float32
        assert 0.0 <= split.X.min() and split.X.max() <= 1.0
    assert small.group_names == (
        "y=0 (digit<5), temple background", "y=0 (digit<5), flower background",
        "y=1 (digit>=5), temple background", "y=1 (digit>=5), flower background",
    )  # fmt: skip


@pytest.mark.parametrize("strength", [0.95, 0.5])
def test_train_correlation_matches_strength_and_evaluation_is_balanced(strength):
    data = load_digits_on_backgrounds(spurious_strength=strength, image_size=8)
    for label in (0, 1):
        share = np.mean(spurious_attribute(data.train)[data.train.y == label] == label)
        assert abs(share - strength) < 0.01
    for split in data[1:]:
        counts = np.bincount(split.group_labels, minlength=4)
        assert len(set(counts.tolist())) == 1 and counts[0] > 50
        assert aligned_share(split) == 0.5


def test_the_background_is_the_easy_feature(small):
    """Colour statistics alone tell the backgrounds apart, and predicts the label only through them."""

    def colour(split):
        return np.hstack([split.X.mean(axis=(2, 3)), split.X.std(axis=(2, 3))])

    train, _, test = small
    by_colour = LogisticRegression().fit(colour(train), spurious_attribute(train))
    assert by_colour.score(colour(test), spurious_attribute(test)) > 0.8
    erm = LogisticRegression().fit(colour(train), train.y)
    correct = erm.predict(colour(test)) == test.y
    per_group = [correct[test.group_labels == g].mean() for g in range(4)]
    # A shortcut, not the digit: the majority groups right, the minority groups mostly wrong.
    assert min(per_group[0], per_group[3]) > 0.75 and max(per_group[1], per_group[2]) < 0.5


def test_same_seed_same_images_other_seed_other_crops():
    a = load_digits_on_backgrounds(image_size=8, random_state=1)
    b = load_digits_on_backgrounds(image_size=8, random_state=1)
    c = load_digits_on_backgrounds(image_size=8, random_state=2)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    assert not np.array_equal(a.train.X, c.train.X)


@pytest.mark.parametrize("image_size", [4, 8.0, True, "32"])
def test_bad_image_size_is_refused(image_size):
    with pytest.raises(ValueError, match="image_size must be an integer of at least 8"):
        load_digits_on_backgrounds(image_size=image_size)


def test_bad_strength_is_refused():
    with pytest.raises(ValueError, match="spurious_strength must be a float in"):
        load_digits_on_backgrounds(spurious_strength=1.5)
