"""What the oracle baselines share: input checks and prediction delegated to ``estimator_``."""

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..utils._groups import UNKNOWN_GROUP
from ..utils._validation import check_targets, check_X, n_rows


def _estimator_has(attr):
    def check(self):
        return hasattr(getattr(self, "estimator_", self.base_estimator), attr)

    return check


class GroupOracleMixin:
    """Checks the training groups and delegates prediction to the fitted ``estimator_``."""

    def _check_fit_inputs(self, X, y, group_labels):
        """Validate X, y and the training groups; set classes_. Returns (encoded y, group ids)."""
        tags = get_tags(self.base_estimator).input_tags
        check_X(X, allow_nan=tags.allow_nan, accept_sparse=tags.sparse)
        y = check_targets(X, y)
        if group_labels is None:
            raise ValueError(
                f"{type(self).__name__} is an oracle baseline: it needs group_labels for every "
                "training row. JTTClassifier is the method that does without them."
            )
        groups = np.asarray(group_labels).reshape(-1)
        if groups.shape[0] != n_rows(X):
            raise ValueError(
                f"group_labels has {groups.shape[0]} rows but X has {n_rows(X)}; pass one group "
                "per training row."
            )
        if np.any(groups == UNKNOWN_GROUP):
            raise ValueError(
                f"group_labels contains the unknown group {UNKNOWN_GROUP}; an oracle baseline "
                "needs the group of every training row."
            )
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        return encoder.transform(y).astype(np.int64), LabelEncoder().fit_transform(groups).astype(np.int64)

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict class labels (no group labels needed).

        Parameters
        ----------
        X : array-like, DataFrame, dict of arrays or torch Dataset
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        encoded = np.asarray(self.estimator_.predict(X)).reshape(-1)
        return self.classes_.take(encoded.astype(np.intp))

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like, DataFrame, dict of arrays or torch Dataset
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)
