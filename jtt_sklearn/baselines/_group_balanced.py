"""Group-balanced upsampling: an oracle baseline that uses the training groups."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils._param_validation import StrOptions

from .._upsampling import fit_upsampled, resolve_upsampling
from ..utils._seeding import seed_random_states
from ._base import GroupOracleMixin


def group_balancing_multiplicity(group_labels: ArrayLike) -> np.ndarray:
    """Integer count per row that makes every group about as large as the largest.

    A row of group ``g`` is counted ``round(max_count / count_g)`` times.

    Examples
    --------
    >>> from jtt_sklearn.baselines import group_balancing_multiplicity
    >>> group_balancing_multiplicity([0, 0, 0, 0, 1, 2, 2])
    array([1, 1, 1, 1, 4, 2, 2])
    """
    _, inverse, counts = np.unique(np.asarray(group_labels), return_inverse=True, return_counts=True)
    per_group = np.maximum(np.rint(counts.max() / counts), 1).astype(np.int64)
    return per_group[inverse]


class GroupBalancedClassifier(GroupOracleMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Upsample every training group to the size of the largest one (needs training groups).

    An oracle baseline: unlike :class:`~jtt_sklearn.JTTClassifier` it needs
    the group of every training row. Upsampling uses the same machinery as
    JTT's stage 2 (a skorch sampler, integer ``sample_weight`` or index
    copies), so X is never copied for skorch nets or weight-aware estimators.

    Parameters
    ----------
    base_estimator : classifier
        A skorch ``NeuralNetClassifier`` or a scikit-learn classifier.
    upsampling : {"auto", "sampler", "sample_weight", "index"}, default="auto"
        As in :class:`~jtt_sklearn.JTTClassifier`.
    random_state : int or None, default=None
        Seeds the estimator's unset ``random_state`` parameters, torch and the shuffle.

    Attributes
    ----------
    estimator_ : estimator
        The fitted classifier.
    sample_multiplicity_ : ndarray of shape (n_samples,)
        How many times each training row was counted.
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from jtt_sklearn.baselines import GroupBalancedClassifier
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    >>> groups = np.array([0, 0, 0, 0, 1, 2, 2, 2, 2, 3])
    >>> clf = GroupBalancedClassifier(LogisticRegression()).fit(X, y, group_labels=groups)
    >>> clf.sample_multiplicity_.tolist()
    [1, 1, 1, 1, 4, 1, 1, 1, 1, 4]
    """

    _parameter_constraints = {
        **GroupOracleMixin._parameter_constraints,
        "upsampling": [StrOptions({"auto", "sampler", "sample_weight", "index"})],
    }

    def __init__(
        self,
        base_estimator: Any,
        *,
        upsampling: Literal["auto", "sampler", "sample_weight", "index"] = "auto",
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.base_estimator = base_estimator
        self.upsampling = upsampling
        self.random_state = random_state

    def _train(self, X, y, groups, seed):
        multiplicity = group_balancing_multiplicity(groups)
        estimator = clone(self.base_estimator)
        if seed is not None:
            seed_random_states(estimator, np.random.RandomState(seed))
        estimator = fit_upsampled(
            estimator,
            X,
            y,
            multiplicity,
            strategy=resolve_upsampling(estimator, self.upsampling),
            fit_params={},
            seed=seed,
            shuffle_seed=seed,
            stage="the group-balanced model",
        )
        return estimator, {"sample_multiplicity_": multiplicity}
