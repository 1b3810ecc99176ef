"""What the oracle baselines share: checks of the training groups, delegated prediction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods

from .._base import DelegatingClassifierMixin, fit_context
from .._skorch import find_skorch_net, takes_input_unchecked
from ..metrics._group_metrics import _check_group_labels
from ..utils._groups import UNKNOWN_GROUP, UNKNOWN_GROUP_NAME, unknown_group_mask
from ..utils._validation import check_X, encode_labels, n_rows

# fit returns the estimator it is called on (typing.Self needs Python 3.11).
_Oracle = TypeVar("_Oracle", bound="GroupOracleMixin")


class GroupOracleMixin(DelegatingClassifierMixin):
    """``fit`` checks the training groups and calls ``_train``; prediction is delegated to ``estimator_``.

    Subclasses implement ``_train(X, y, groups, seed)``, which returns the
    fitted estimator and a dict of their own fitted attributes.
    """

    _delegate_attribute = "estimator_"
    # Set by the subclasses (their __init__ parameters and their training step).
    base_estimator: Any
    random_state: Any
    _train: Callable[..., tuple[Any, dict[str, Any]]]
    _parameter_constraints = {
        "base_estimator": [HasMethods(["fit", "predict"])],
        "random_state": [None, "random_state"],
    }

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self: _Oracle, X: ArrayLike | Any, y: ArrayLike, *, group_labels: ArrayLike) -> _Oracle:
        """Fit on (X, y) with the group of every training row.

        Parameters
        ----------
        X : array-like, DataFrame, dict of arrays or torch Dataset
            Training data, as the base estimator takes it.
        y : array-like of shape (n_samples,)
            Class labels.
        group_labels : array-like of shape (n_samples,)
            Group of every training row (no unknown groups).

        Returns
        -------
        self : estimator
            The fitted estimator.
        """
        y_encoded, classes, groups = self._check_fit_inputs(X, y, group_labels)
        estimator, fitted = self._train(X, y_encoded, groups, self._fit_seed())
        # Set once training has succeeded, so that a failed fit leaves the estimator as it was.
        self.estimator_, self.classes_ = estimator, classes
        vars(self).update(fitted)
        self._record_fit_data(X)
        return self

    def _base_estimator(self):
        return self.base_estimator

    def _fit_seed(self):
        """One int seed derived from random_state, or None to leave every RNG unseeded."""
        if self.random_state is None:
            return None
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _check_fit_inputs(self, X, y, group_labels):
        """Validate X, y and the training groups. Returns (encoded y, classes, group ids)."""
        check_X(X, finite=takes_input_unchecked(self.base_estimator))
        net = find_skorch_net(self.base_estimator)[0]  # only a net needs class indices
        y, classes = encode_labels(X, y, for_net=net is not None, classes=getattr(net, "classes", None))
        if group_labels is None:
            raise ValueError(
                f"{type(self).__name__} is an oracle baseline: it needs group_labels for every "
                "training row. JTTClassifier is the method that does without them."
            )
        # The metrics' checks: NaN is refused and float ids such as -1.0 (pandas) are read as ints.
        groups = _check_group_labels(group_labels)
        if groups.shape[0] != n_rows(X):
            raise ValueError(
                f"group_labels has {groups.shape[0]} rows but X has {n_rows(X)}; pass one group "
                "per training row."
            )
        if np.any(unknown_group_mask(groups)):
            raise ValueError(
                f"group_labels contains the unknown group ({UNKNOWN_GROUP} or {UNKNOWN_GROUP_NAME!r}); "
                "an oracle baseline "
                "needs the group of every training row."
            )
        return y, classes, LabelEncoder().fit_transform(groups).astype(np.int64)
