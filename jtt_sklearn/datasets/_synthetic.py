"""Gaussian core / spurious / noise features in the style of Sagawa et al. (2020)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

from ._base import (
    DatasetSplits,
    GroupSplit,
    _assign_attribute,
    _check_strength,
    _group_ids,
)


def _check_count(value, name, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def make_spurious_features(
    n_train: int = 2000,
    n_validation: int = 400,
    n_test: int = 2000,
    *,
    spurious_strength: float = 0.95,
    n_core_features: int = 5,
    n_spurious_features: int = 5,
    n_noise_features: int = 100,
    core_noise: float = 3.0,
    spurious_noise: float = 1.0,
    random_state: int | np.random.RandomState | None = 0,
) -> DatasetSplits:
    """Generate a label, a spurious attribute and features that reveal both.

    In the style of Sagawa et al. (2020), "An investigation of why
    overparameterization exacerbates spurious correlations": with
    ``s_y = 2 y - 1`` and ``s_a = 2 a - 1`` (both in {-1, +1}),

    * core features ``x_core ~ N(s_y * 1, core_noise**2 * I)``,
    * spurious features ``x_spu ~ N(s_a * 1, spurious_noise**2 * I)``,
    * noise features ``x_noise ~ N(0, I)``.

    The spurious features are less noisy than the core ones, so a model fit
    on data where ``a`` follows ``y`` prefers them. In train both classes
    have the same size and a share ``spurious_strength`` of class ``c`` has
    ``a = c``; validation and test have four equal groups (sizes differ by at
    most one when the count is not a multiple of four).

    Groups (``y * 2 + a``): 0 = ``y=0, a=0``, 1 = ``y=0, a=1``,
    2 = ``y=1, a=0``, 3 = ``y=1, a=1``; groups 1 and 2 are the training
    minorities.

    Parameters
    ----------
    n_train, n_validation, n_test : int, default=2000, 400, 2000
        Number of rows of each split.
    spurious_strength : float, default=0.95
        Share of each training class whose attribute equals its label.
    n_core_features : int, default=5
        Number of core feature columns (at least 1).
    n_spurious_features : int, default=5
        Number of spurious feature columns (at least 1).
    n_noise_features : int, default=100
        Number of pure-noise columns; many of them let a flexible model
        memorise the few minority rows instead of learning the core feature.
    core_noise : float, default=3.0
        Standard deviation of the core features around their mean.
    spurious_noise : float, default=1.0
        Standard deviation of the spurious features around their mean.
    random_state : int, RandomState instance or None, default=0
        Seeds the draw; the same value always gives the same data.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` as ``(X, y, group_labels)``, ``X`` float32
        of shape ``(n, n_core_features + n_spurious_features +
        n_noise_features)`` with columns in that order (see
        ``splits.feature_names``).

    Examples
    --------
    >>> from jtt_sklearn.datasets import make_spurious_features
    >>> splits = make_spurious_features(n_train=100, n_validation=8, n_test=8)
    >>> splits.train.X.shape
    (100, 110)
    >>> splits.group_counts()["train"].tolist()
    [47, 3, 3, 47]
    >>> splits.feature_names[:2], splits.feature_names[5]
    (('core_0', 'core_1'), 'spurious_0')
    """
    n_train = _check_count(n_train, "n_train", 2)
    n_validation = _check_count(n_validation, "n_validation", 1)
    n_test = _check_count(n_test, "n_test", 1)
    n_core_features = _check_count(n_core_features, "n_core_features", 1)
    n_spurious_features = _check_count(n_spurious_features, "n_spurious_features", 1)
    n_noise_features = _check_count(n_noise_features, "n_noise_features", 0)
    for value, name in ((core_noise, "core_noise"), (spurious_noise, "spurious_noise")):
        if not isinstance(value, numbers.Real) or value < 0:
            raise ValueError(f"{name} must be a non-negative float; got {value!r}.")
    spurious_strength = _check_strength(spurious_strength)
    rng = check_random_state(random_state)

    def draw(y, attribute):
        n = len(y)
        sign_y = (2.0 * y - 1.0)[:, None]
        sign_a = (2.0 * attribute - 1.0)[:, None]
        core = sign_y + core_noise * rng.standard_normal((n, n_core_features))
        spurious = sign_a + spurious_noise * rng.standard_normal((n, n_spurious_features))
        noise = rng.standard_normal((n, n_noise_features))
        X = np.hstack([core, spurious, noise]).astype(np.float32)
        return GroupSplit(X, y, _group_ids(y, attribute, 2, 2))

    y_train = rng.permutation(np.arange(n_train) % 2).astype(np.int64)
    train = draw(y_train, _assign_attribute(y_train, 2, spurious_strength, rng))

    def balanced(n):
        groups = rng.permutation(np.arange(n) % 4)
        return draw(groups // 2, groups % 2)

    feature_names = tuple(
        [f"core_{i}" for i in range(n_core_features)]
        + [f"spurious_{i}" for i in range(n_spurious_features)]
        + [f"noise_{i}" for i in range(n_noise_features)]
    )
    return DatasetSplits(
        train,
        balanced(n_validation),
        balanced(n_test),
        name="spurious_features",
        label_names=("negative", "positive"),
        attribute_names=("a=0", "a=1"),
        feature_names=feature_names,
        spurious_strength=spurious_strength,
        description=(
            "Synthetic Gaussian data: core features centred on +-1 by the "
            f"label (std {core_noise}), spurious features centred on +-1 by "
            f"the attribute (std {spurious_noise}), {n_noise_features} standard "
            "normal noise features. The attribute follows the label in train "
            f"at {spurious_strength:.0%}; validation and test groups are equal."
        ),
    )
