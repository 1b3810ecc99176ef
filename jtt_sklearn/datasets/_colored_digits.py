"""Coloured 8x8 digits: scikit-learn's digits with colour as the spurious attribute."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ._base import (
    DatasetSplits,
    _check_fraction,
    _check_strength,
    _injected_attribute_splits,
    _render_planned_splits,
)

# Intensity of the faint copy of the digit in the *other* channel. Keeping the
# shape visible in both channels lets a model share its digit detector across
# colours, so the colour is a shortcut rather than two separate tasks.
_OTHER_CHANNEL = 0.5

_ATTRIBUTE_NAMES = ("red", "green")


def _colorize(images, attribute, noise, rng):
    """Stack grey images (n, h, w) in [0, 1] into red/green images (n, 2, h, w).

    Attribute 0 draws the digit in the red channel (index 0), attribute 1 in
    the green channel (index 1); the other channel gets a faint copy.
    """
    n = len(images)
    rows = np.arange(n)
    out = np.empty((n, 2) + images.shape[1:], dtype=np.float32)
    out[rows, attribute] = images
    out[rows, 1 - attribute] = _OTHER_CHANNEL * images
    if noise:
        out += (noise * rng.standard_normal(out.shape)).astype(np.float32)
    return out


def _make_colored_splits(
    images,
    digits,
    *,
    name,
    spurious_strength,
    validation_size,
    test_size,
    noise,
    as_images,
    random_state,
):
    """Shared body of the coloured-digit loaders."""
    spurious_strength = _check_strength(spurious_strength)
    validation_size = _check_fraction(validation_size, "validation_size")
    test_size = _check_fraction(test_size, "test_size")
    if noise < 0:
        raise ValueError(f"noise must be non-negative; got {noise!r}.")
    rng = check_random_state(random_state)

    y_all = (digits >= 5).astype(np.int64)
    # Stratifying on the digit (not just the label) keeps every digit in
    # every split.
    plan = _injected_attribute_splits(
        y_all,
        digits,
        spurious_strength=spurious_strength,
        validation_size=validation_size,
        test_size=test_size,
        n_attributes=2,
        rng=rng,
    )

    def render(items, attribute):
        X = _colorize(images[items], attribute, noise, rng)
        return X if as_images else X.reshape(len(X), -1)

    train, validation, test = _render_planned_splits(plan, y_all, render)
    return DatasetSplits(
        train,
        validation,
        test,
        name=name,
        label_names=("digit<5", "digit>=5"),
        attribute_names=_ATTRIBUTE_NAMES,
        spurious_strength=spurious_strength,
        description=(
            "Binary label y = (digit >= 5). Spurious attribute = colour: the "
            "digit is drawn in the red (attribute 0) or green (attribute 1) "
            f"channel, with a faint copy ({_OTHER_CHANNEL}x) in the other one, "
            f"plus Gaussian noise (std {noise}). In train, {spurious_strength:.0%} "
            "of digits < 5 are red and of digits >= 5 are green; in validation "
            "and test every image appears once in each colour and both classes "
            "have the same number of images, so all four groups have equal "
            "size. No original image is in two splits."
        ),
    )


def load_colored_digits(
    *,
    spurious_strength: float = 0.95,
    validation_size: float = 0.15,
    test_size: float = 0.25,
    noise: float = 0.05,
    as_images: bool = False,
    random_state: int | np.random.RandomState | None = 0,
) -> DatasetSplits:
    """Load the coloured 8x8 digits, the default group-robustness benchmark.

    Built from :func:`sklearn.datasets.load_digits` (1,797 images), so it
    needs nothing beyond scikit-learn. The label is ``y = 1`` for digits
    5-9 and ``y = 0`` for digits 0-4. The spurious attribute is the colour
    the digit is drawn in: red (attribute 0) or green (attribute 1); a faint
    copy at half intensity is drawn in the other channel, and Gaussian noise
    is added to every pixel.

    The original images are split 60/15/25 (by default), stratified by
    digit, so an image never appears in two splits. In train each image
    appears once, and a share ``spurious_strength`` of each class has its
    aligned colour (red for ``y = 0``, green for ``y = 1``); the colour is
    much easier to read off than the digit's shape, so plain ERM learns the
    shortcut. In validation and test both classes get the same number of
    images and each image appears once in red and once in green, so the four
    groups have equal size and colour says nothing about the label.

    Groups (``label * 2 + colour``): 0 = ``y=0 (digit<5), red``,
    1 = ``y=0 (digit<5), green``, 2 = ``y=1 (digit>=5), red``,
    3 = ``y=1 (digit>=5), green``. Groups 1 and 2 are the training
    minorities.

    Parameters
    ----------
    spurious_strength : float, default=0.95
        Share of each training class drawn in its aligned colour. ``0.5``
        makes colour independent of the label.
    validation_size : float, default=0.15
        Share of the original images used for validation.
    test_size : float, default=0.25
        Share of the original images used for test.
    noise : float, default=0.05
        Standard deviation of the Gaussian noise added to every pixel
        (pixel values are in [0, 1]).
    as_images : bool, default=False
        If False, ``X`` is flattened to shape ``(n, 128)`` (red channel's 64
        pixels, then green's); if True it has shape ``(n, 2, 8, 8)`` for
        convolutional networks.
    random_state : int, RandomState instance or None, default=0
        Controls the split, the colouring and the noise. The same value
        always gives the same data; pass None for a fresh draw.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` :class:`GroupSplit` tuples
        ``(X, y, group_labels)`` with ``X`` float32, ``y`` and
        ``group_labels`` int64, plus metadata such as ``group_names``.

    See Also
    --------
    load_colored_mnist : The same construction on 28x28 MNIST digits.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_colored_digits
    >>> train, val, test = load_colored_digits(random_state=0)
    >>> X_train, y_train, g_train = train
    >>> X_train.shape, X_train.dtype
    ((1078, 128), dtype('float32'))
    >>> load_colored_digits().group_names[1]
    'y=0 (digit<5), green'
    >>> [counts.tolist() for counts in load_colored_digits().group_counts().values()]
    [[514, 27, 27, 510], [134, 134, 134, 134], [225, 225, 225, 225]]
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    return _make_colored_splits(
        images,
        digits.target.astype(np.int64),
        name="colored_digits",
        spurious_strength=spurious_strength,
        validation_size=validation_size,
        test_size=test_size,
        noise=noise,
        as_images=as_images,
        random_state=random_state,
    )
