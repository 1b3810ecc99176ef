"""Digits on photographs: a Waterbirds-like image task built from scikit-learn's own files.

Waterbirds pastes birds (the label) onto land or water photographs (the spurious attribute). Here
scikit-learn's 8x8 digits (the label: digit >= 5) are pasted onto crops of its two sample
photographs, a temple and a flower (the attribute). Both ship inside scikit-learn, so nothing is
downloaded.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state

from ._base import (
    DatasetSplits,
    _check_fraction,
    _check_strength,
    _injected_attribute_splits,
    _render_planned_splits,
)

_ATTRIBUTE_NAMES = ("temple background", "flower background")

# Each crop covers this many pixels of the 427 x 640 photograph before it is shrunk to image_size:
# enough to show a texture (roof tiles, petals) rather than one flat patch.
_CROP_PIXELS = 160


def _resize(image, size):
    """Bilinear resize of an (h, w[, c]) float image to (size, size[, c])."""
    from scipy.ndimage import zoom

    factors = (size / image.shape[0], size / image.shape[1]) + (1,) * (image.ndim - 2)
    return np.clip(zoom(image, factors, order=1, grid_mode=True, mode="nearest"), 0.0, 1.0)


def _stroke_and_outline(digit, size):
    """The digit resized to (size, size), and a slightly wider copy of it for its outline; (2, size, size)."""
    from scipy.ndimage import grey_dilation

    stroke = _resize(digit, size)
    width = max(2, size // 10)
    return np.stack([stroke, grey_dilation(stroke, size=(width + 1, width + 1))]).astype(np.float32)


def _shrunk_photographs(image_size):
    """The two sample photographs as floats in [0, 1], shrunk so that a crop of image_size pixels
    covers _CROP_PIXELS of the original."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_sample_images

    photos = []
    scale = image_size / _CROP_PIXELS
    for photo in load_sample_images().images:  # china.jpg (temple), flower.jpg, in this order
        photos.append(np.clip(zoom(photo / 255.0, (scale, scale, 1), order=1), 0.0, 1.0).astype(np.float32))
    return photos


def _compose(strokes, attribute, photos, image_size, rng):
    """Paste each stroke in white onto a random crop of its row's photograph; (n, 3, size, size)."""
    n, digit_size = len(strokes), strokes.shape[-1]
    out = np.empty((n, 3, image_size, image_size), dtype=np.float32)
    for i in range(n):
        photo = photos[attribute[i]]
        top = rng.randint(photo.shape[0] - image_size + 1)
        left = rng.randint(photo.shape[1] - image_size + 1)
        image = photo[top : top + image_size, left : left + image_size].copy()
        alpha, outline = strokes[i, 0][..., None], strokes[i, 1][..., None]
        # The digit sits anywhere inside the image, so its position says nothing about the label.
        y0 = rng.randint(image_size - digit_size + 1)
        x0 = rng.randint(image_size - digit_size + 1)
        patch = image[y0 : y0 + digit_size, x0 : x0 + digit_size]
        # A dark outline keeps the white stroke visible on the bright parts of the photographs (sky).
        patch = patch * (1.0 - 0.8 * outline)
        image[y0 : y0 + digit_size, x0 : x0 + digit_size] = (1.0 - alpha) * patch + alpha
        out[i] = image.transpose(2, 0, 1)
    return out


def load_digits_on_backgrounds(
    *,
    spurious_strength: float = 0.95,
    image_size: int = 32,
    validation_size: float = 0.15,
    test_size: float = 0.25,
    random_state: int | np.random.RandomState | None = 0,
) -> DatasetSplits:
    """Load digits pasted on photographs: a Waterbirds-like task that ships offline.

    The label is ``y = 1`` for digits 5-9 and ``y = 0`` for 0-4, from
    :func:`sklearn.datasets.load_digits` (1,797 images). The spurious
    attribute is the background: a random crop of scikit-learn's temple
    photograph (attribute 0) or of its flower photograph (attribute 1), from
    :func:`sklearn.datasets.load_sample_images`. Each digit is scaled to 60%
    of the image, drawn in white, and placed at a random position; each row
    gets its own crop.

    As in Waterbirds, the background follows the label in training and is
    independent of it in validation and test. The original digits are split
    60/15/25 (by default), stratified by digit, so a digit image never
    appears in two splits. In train each image appears once, and a share
    ``spurious_strength`` of each class has its aligned background (temple
    for ``y = 0``, flower for ``y = 1``). In validation and test both classes
    have the same number of images and each appears once on each background,
    so the four groups have equal size.

    Groups (``label * 2 + background``): 0 = ``y=0 (digit<5), temple
    background``, 1 = ``y=0 (digit<5), flower background``, 2 = ``y=1
    (digit>=5), temple background``, 3 = ``y=1 (digit>=5), flower
    background``. Groups 1 and 2 are the training minorities.

    Parameters
    ----------
    spurious_strength : float, default=0.95
        Share of each training class on its aligned background (Waterbirds:
        0.95). ``0.5`` makes the background independent of the label.
    image_size : int, default=32
        Side of the square RGB images, at least 8.
    validation_size : float, default=0.15
        Share of the original digit images used for validation.
    test_size : float, default=0.25
        Share of the original digit images used for test.
    random_state : int, RandomState instance or None, default=0
        Controls the split, the backgrounds, the crops and the positions.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` :class:`GroupSplit` tuples
        ``(X, y, group_labels)``: ``X`` float32 of shape
        ``(n, 3, image_size, image_size)`` with values in [0, 1] (RGB,
        channels first, as torchvision models take them; not normalised),
        ``y`` and ``group_labels`` int64.

    See Also
    --------
    load_waterbirds : The real Waterbirds, from files you already have.
    load_colored_digits : The same digits with colour as the attribute.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_digits_on_backgrounds
    >>> data = load_digits_on_backgrounds(image_size=16)
    >>> X_train, y_train, g_train = data.train
    >>> X_train.shape, X_train.dtype
    ((1078, 3, 16, 16), dtype('float32'))
    >>> data.group_names[1]
    'y=0 (digit<5), flower background'
    >>> [counts.tolist() for counts in data.group_counts().values()]
    [[514, 27, 27, 510], [134, 134, 134, 134], [225, 225, 225, 225]]
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return _make_photograph_splits(
        digits.images / 16.0,
        digits.target,
        (digits.target >= 5).astype(np.int64),
        name="digits_on_backgrounds",
        label_names=("digit<5", "digit>=5"),
        label_text="y = (digit >= 5), from scikit-learn's 8x8 digits",
        class_text=("digits < 5", "digits >= 5"),
        spurious_strength=spurious_strength,
        image_size=image_size,
        validation_size=validation_size,
        test_size=test_size,
        random_state=random_state,
    )


def _make_photograph_splits(
    images,
    strata,
    y_all,
    *,
    name,
    label_names,
    label_text,
    class_text,
    spurious_strength,
    image_size,
    validation_size,
    test_size,
    random_state,
):
    """Paste grey ``images`` (values in [0, 1]) on the photographs, split as the loaders document.

    ``strata`` (the digit of each image) stratifies the split; ``y_all`` is the label.
    """
    spurious_strength = _check_strength(spurious_strength)
    validation_size = _check_fraction(validation_size, "validation_size")
    test_size = _check_fraction(test_size, "test_size")
    if not isinstance(image_size, numbers.Integral) or isinstance(image_size, bool) or image_size < 8:
        raise ValueError(f"image_size must be an integer of at least 8 (pixels); got {image_size!r}.")
    image_size = int(image_size)  # a numpy integer becomes a plain int
    rng = check_random_state(random_state)
    digit_size = max(4, int(round(0.6 * image_size)))
    strokes = np.stack([_stroke_and_outline(image, digit_size) for image in images])
    plan = _injected_attribute_splits(
        y_all,
        strata,
        spurious_strength=spurious_strength,
        validation_size=validation_size,
        test_size=test_size,
        n_attributes=2,
        rng=rng,
    )
    photos = _shrunk_photographs(image_size)
    train, validation, test = _render_planned_splits(
        plan, y_all, lambda items, attribute: _compose(strokes[items], attribute, photos, image_size, rng)
    )
    return DatasetSplits(
        train,
        validation,
        test,
        name=name,
        label_names=label_names,
        attribute_names=_ATTRIBUTE_NAMES,
        spurious_strength=spurious_strength,
        description=(
            f"Binary label {label_text}, scaled to 60% of a "
            f"{image_size}x{image_size} RGB image and drawn in white at a random position. Spurious "
            "attribute = background: a random crop of scikit-learn's temple photograph (attribute 0) "
            f"or flower photograph (attribute 1). In train, {spurious_strength:.0%} of {class_text[0]} are "
            f"on the temple and of {class_text[1]} on the flower; in validation and test every image "
            "appears once on each background and both classes have the same number of images. No "
            "original image is in two splits."
        ),
    )
