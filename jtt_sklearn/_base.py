"""What JTTClassifier and the baselines share: the training-length parameter, delegated prediction.

Each estimator wraps one fitted inner model: a scikit-learn estimator trained
on the user's labels as they are, or a skorch net trained on class indices
``0..K-1``, whose outputs are mapped back to ``classes_``. A method exists only
where the inner model has it (``available_if``); prediction never needs group
labels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted, validate_data

from ._skorch import find_skorch_net, takes_input_unchecked
from .utils._validation import check_X, is_array_data

if TYPE_CHECKING:
    # scikit-learn ships no types, so its decorators would turn the methods below into Any. Both
    # return the function they wrap with its signature (functools.wraps), which these stubs say.
    _F = TypeVar("_F", bound=Callable[..., Any])

    def available_if(check: Callable[[Any], Any]) -> Callable[[_F], _F]: ...
    def fit_context(*, prefer_skip_nested_validation: bool) -> Callable[[_F], _F]: ...
else:
    from sklearn.base import _fit_context
    from sklearn.utils.metaestimators import available_if

    fit_context = _fit_context  # the name _jtt and the baselines import

# Parameter names that set how long an estimator trains, in order of preference.
TRAINING_LENGTH_PARAMS = ("max_epochs", "max_iter")


def resolve_epochs_param(estimator, epochs_param="auto"):
    """Name of the parameter of ``estimator`` that sets its training length, or None.

    ``"auto"`` looks for ``max_epochs`` (skorch nets), then ``max_iter``
    (scikit-learn iterative estimators), also inside nested estimators, where
    the full ``step__param`` name is returned; in a Pipeline, only in its
    final step (a ``SelectFromModel``'s ``max_iter`` is not a training length).
    """
    params = estimator.get_params(deep=True)
    if epochs_param != "auto":
        if epochs_param not in params:
            raise ValueError(
                f"epochs_param={epochs_param!r} is not a parameter of "
                f"{type(estimator).__name__}. Pass the name of the parameter that sets "
                "its training length (see base_estimator.get_params())."
            )
        return epochs_param
    # In a Pipeline only the final step's length is JTT's T: a selector's or imputer's max_iter is not.
    prefix = _final_step_prefix(estimator)
    params = {key: value for key, value in params.items() if key.startswith(prefix)}
    for name in TRAINING_LENGTH_PARAMS:
        keys = sorted(key for key in params if key == name or key.endswith("__" + name))
        if len(keys) == 1:
            return keys[0]
        if len(keys) > 1:
            raise ValueError(
                f"base_estimator has several {name!r} parameters ({keys}); pass "
                "epochs_param=<one of them> to say which one T sets."
            )
    return None


def _final_step_prefix(estimator):
    """``"last__"`` for a Pipeline (``"last__inner__"`` when nested), ``""`` for anything else."""
    steps = getattr(estimator, "steps", None)
    if not steps:
        return ""
    name, last = steps[-1]
    return f"{name}__{_final_step_prefix(last)}"


def _delegate_has(attr):
    """Make a method exist only where the fitted (or, unfitted, the base) model has it."""

    def check(self):
        fitted = getattr(self, self._delegate_attribute, None)
        return hasattr(fitted if fitted is not None else self._base_estimator(), attr)

    return check


def _is_text(labels):
    if labels.dtype.kind in "US":
        return True
    if labels.dtype.kind == "O" and labels.size:
        return isinstance(labels.reshape(-1)[0], str)
    return False


class DelegatingClassifierMixin:
    """predict, predict_proba, predict_log_proba, decision_function and score of ``_delegate_attribute``.

    Subclasses set ``_delegate_attribute`` (the fitted model's attribute
    name), define ``_base_estimator()``, and call :meth:`_record_fit_data`
    at the end of ``fit``.
    """

    # Set by every subclass; declared here (without a value) so that the methods below type-check.
    _delegate_attribute: str
    classes_: np.ndarray

    def _fitted_delegate(self):
        return getattr(self, self._delegate_attribute)

    def _record_fit_data(self, X):
        """Remember n_features_in_ and feature names of 2-d array-like X (not dicts or Datasets)."""
        if is_array_data(X):
            validate_data(self, X, skip_check_array=True)

    def _encode(self, y):
        """Map labels to the indices of classes_; unseen labels become -1 (never predicted)."""
        y = np.asarray(y)
        if _is_text(y) != _is_text(self.classes_):
            kinds = {True: "strings", False: "numbers"}
            raise ValueError(
                f"Mix of label input types: the model was fitted on {kinds[_is_text(self.classes_)]} "
                f"(classes_ = {self.classes_[:5].tolist()}) but got {kinds[_is_text(y)]} "
                f"(such as {y.reshape(-1)[:3].tolist()}). Pass labels of the kind seen in fit; "
                "otherwise every row would count as an error."
            )
        order = np.argsort(self.classes_, kind="stable")  # classes_ follows the net's classes, if it set them
        positions = np.searchsorted(self.classes_[order], y).clip(0, self.classes_.size - 1)
        return np.where(self.classes_[order][positions] == y, order[positions], -1)

    def _decode(self, predicted):
        """The fitted model's predictions as labels: a skorch net predicts class indices, others labels."""
        predicted = np.asarray(predicted).reshape(-1)
        if find_skorch_net(self._fitted_delegate())[0] is None:
            return predicted
        return self.classes_.take(predicted.astype(np.intp))

    def _check_predict_data(self, X):
        check_is_fitted(self)
        fitted_on_2d = hasattr(self, "n_features_in_")
        check_X(X, ensure_2d=fitted_on_2d, finite=takes_input_unchecked(self._fitted_delegate()))
        if fitted_on_2d:
            validate_data(self, X, reset=False, skip_check_array=True)
        return X

    @available_if(_delegate_has("predict"))
    def predict(self, X: ArrayLike | Any) -> np.ndarray:
        """Predict class labels with the fitted model.

        Parameters
        ----------
        X : array-like, DataFrame, dict of arrays or torch Dataset
            Samples, in the form the base estimator takes. No group labels.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels, drawn from ``classes_``.
        """
        X = self._check_predict_data(X)
        return self._decode(self._fitted_delegate().predict(X))

    @available_if(_delegate_has("predict_proba"))
    def predict_proba(self, X: ArrayLike | Any) -> np.ndarray:
        """Class probabilities columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like, DataFrame, dict of arrays or torch Dataset
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        X = self._check_predict_data(X)
        return self._fitted_delegate().predict_proba(X)

    @available_if(_delegate_has("predict_log_proba"))
    def predict_log_proba(self, X: ArrayLike | Any) -> np.ndarray:
        """Log of :meth:`predict_proba`, of the fitted model.

        Parameters
        ----------
        X : array-like, DataFrame, dict of arrays or torch Dataset
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        X = self._check_predict_data(X)
        return self._fitted_delegate().predict_log_proba(X)

    @available_if(_delegate_has("decision_function"))
    def decision_function(self, X: ArrayLike | Any) -> np.ndarray:
        """Decision scores of the fitted model.

        Parameters
        ----------
        X : array-like, DataFrame, dict of arrays or torch Dataset
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]``.
        """
        X = self._check_predict_data(X)
        return self._fitted_delegate().decision_function(X)

    @available_if(_delegate_has("score"))
    def score(self, X: ArrayLike | Any, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Accuracy on (X, y), as its own ``score`` computes it.

        For worst-group accuracy use
        :func:`jtt_sklearn.metrics.make_worst_group_scorer`.

        Parameters
        ----------
        X : array-like, DataFrame, dict of arrays or torch Dataset
            Samples.
        y : array-like of shape (n_samples,)
            True labels; labels not seen in fit count as errors.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        X = self._check_predict_data(X)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        net = find_skorch_net(self._fitted_delegate())[0] is not None
        return self._fitted_delegate().score(X, self._encode(y) if net else y, **kwargs)
