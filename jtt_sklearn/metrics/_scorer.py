"""Scorers that receive ``group_labels`` through scikit-learn's metadata routing.

Also the worst-class scorer, which needs no group labels and no routing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any

import numpy as np
from sklearn import get_config
from sklearn.metrics import make_scorer

# Private classes, subclassed so that group_labels are required: the scorer
# class make_scorer returns, and the request of one method (see the tests).
from sklearn.metrics._scorer import _Scorer
from sklearn.utils._metadata_requests import MethodMetadataRequest
from sklearn.utils.metadata_routing import UNCHANGED

from ..exceptions import (
    MisalignedGroupLabelsError,
    MissingGroupLabelsError,
    UnknownGroupLabelsError,
)
from ..utils._groups import unknown_group_mask
from ..utils._warnings import warn_user
from ._group_metrics import (
    _check_group_labels,
    _check_no_unknown,
    worst_class_accuracy,
    worst_group_accuracy,
)

_ROUTING_ON = "sklearn.set_config(enable_metadata_routing=True)"


def _missing_group_labels_message(scorer, name):
    return (
        f"{scorer!r} needs {name!r} but none were passed. Pass them where the "
        f"data is passed, e.g. search.fit(X, y, {name}=g) or "
        f"cross_validate(..., params={{{name!r}: g}}) or scorer(estimator, X, y, "
        f"{name}=g). In JTT's protocol make_validation_protocol returns them "
        "(-1 for the training rows)."
    )


class _RequireGroupLabels(MethodMetadataRequest):
    """Score-method request that fails when ``group_labels`` are not passed.

    scikit-learn has no notion of required metadata: requested metadata that
    is not passed is silently not routed, and a search with the default
    ``error_score=np.nan`` then turns the scorer's error into NaN scores.
    This check runs while a search or ``cross_validate`` routes its
    parameters, outside that error handling, so it fails loudly. scikit-learn
    skips routing when no parameter at all is passed, hence the advice to use
    ``error_score="raise"``.
    """

    def __sklearn_clone__(self):
        # Routing copies requests before using them; keep this class in the copy.
        return type(self)(owner=self.owner, method=self.method, requests=deepcopy(self.requests))

    def _route_params(self, *args, **kwargs):
        params = kwargs.get("params", args[0] if args else None)
        alias = self.requests.get("group_labels")
        name = alias if isinstance(alias, str) else "group_labels"
        if isinstance(params, Mapping) and params.get(name) is None:
            raise MissingGroupLabelsError(_missing_group_labels_message(self.owner, name))
        routed = super()._route_params(*args, **kwargs)
        caller = kwargs.get("caller", args[2] if len(args) > 2 else None)
        if caller == "fit" and routed.get("group_labels") is not None:
            # A search or cross_validate: it indexes these by fold only if they have one value per row.
            routed["group_labels"] = np.asarray(routed["group_labels"]).view(_RoutedGroupLabels)
            _warn_if_refit_on_validation_rows(routed["group_labels"])
        return routed


def _warn_if_refit_on_validation_rows(group_labels):
    """A search with refit=True on the protocol's rows would train its final model on the validation rows.

    scikit-learn names the routing parent by its class name only, so the search is found on the stack.
    """
    try:
        groups = _check_group_labels(np.asarray(group_labels))
    except ValueError:
        return
    if not unknown_group_mask(groups).any():
        return  # not the protocol's rows: every row has a group
    search = _calling_search()
    if search is not None and search.refit:
        warn_user(
            f"{type(search).__name__}(refit=True) on make_validation_protocol's rows refits the "
            "chosen model on every row it was given, the group-labelled validation rows included, "
            "which JTT keeps for selection only. Pass refit=False and refit the choice on the "
            "training rows with jtt_sklearn.model_selection.refit_on_train(search, X_train, "
            "y_train), or use tune_on_validation, which does both.",
            UserWarning,
        )


def _calling_search():
    from sklearn.model_selection._search import BaseSearchCV

    frame = inspect.currentframe()
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, BaseSearchCV):
            return owner
        frame = frame.f_back
    return None


class _RoutedGroupLabels(np.ndarray):
    """``group_labels`` as a search received them, before it indexed them by fold.

    Indexing gives a plain array, so a scorer that still gets this type got
    labels that the search passed on unindexed: their length was not X's.
    """

    def __getitem__(self, key):
        return np.asarray(self)[key]

    def take(self, *args, **kwargs):
        return np.asarray(self).take(*args, **kwargs)


class _GroupScorer(_Scorer):
    """A ``make_scorer`` scorer that always requests ``group_labels``."""

    def __repr__(self):
        return "make_group_scorer" + super().__repr__()[len("make_scorer") :]

    def set_score_request(self, **kwargs):
        """Set the metadata requested by the scorer; ``group_labels`` stays requested.

        Unlike a plain ``make_scorer`` scorer, earlier requests are kept (a call
        with ``sample_weight=True`` adds to, rather than replaces, the
        ``group_labels`` request).

        Parameters
        ----------
        **kwargs : dict
            ``param_name=alias`` with alias ``True``, ``False``, ``None`` or a
            string. ``group_labels`` may only be ``True`` or an alias string.

        Returns
        -------
        self : object
            The scorer.
        """
        kwargs = {key: value for key, value in kwargs.items() if value != UNCHANGED}
        alias = kwargs.get("group_labels", True)
        if alias is not True and not isinstance(alias, str):
            raise ValueError(
                "A group scorer cannot work without group_labels; request them "
                f"with True or an alias string, not {alias!r}."
            )
        current = {}
        if hasattr(self, "_metadata_request"):
            current = dict(self._metadata_request.score.requests)
        return super().set_score_request(**{**current, **kwargs})

    def _get_metadata_request(self):
        request = super()._get_metadata_request()
        request.score = _RequireGroupLabels(
            owner=request.score.owner, method="score", requests=request.score.requests
        )
        return request

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        # Also reached when routing was skipped: a direct scorer(est, X, y), or
        # a search whose fit got no metadata at all.
        if kwargs.get("group_labels") is None:
            if not get_config()["enable_metadata_routing"]:
                raise MissingGroupLabelsError(
                    f"{self!r} receives group_labels through metadata routing, which is "
                    f"off now. Switch it on before the search with:\n    {_ROUTING_ON}"
                )
            raise MissingGroupLabelsError(_missing_group_labels_message(self, "group_labels"))
        if isinstance(kwargs["group_labels"], _RoutedGroupLabels):
            raise MisalignedGroupLabelsError(
                f"{self!r} got the search's group_labels unindexed: they have "
                f"{len(kwargs['group_labels'])} values but the search's X has another number of rows, "
                "so scikit-learn passed them whole to every fold. Pass one group label per row of X "
                "(make_validation_protocol gives the training rows -1)."
            )
        _refuse_unknown_groups(self, kwargs["group_labels"])
        return super()._score(method_caller, estimator, X, y_true, **kwargs)


def _refuse_unknown_groups(scorer, group_labels):
    """Stop the search on rows with the unknown group; the metric would raise a ValueError (NaN score)."""
    try:
        groups = _check_group_labels(group_labels)
    except ValueError:
        return  # the metric itself says what is wrong with these labels
    if not unknown_group_mask(groups).any():
        return
    try:
        _check_no_unknown(groups)
    except ValueError as error:
        message = str(error)
    raise UnknownGroupLabelsError(
        f"{scorer!r} cannot score these rows: {message} In a search or cross_validate on "
        "make_validation_protocol's data, pass cv=protocol.cv rather than cv=<number of "
        "folds> or another splitter, and leave return_train_score=False."
    ) from None


def make_group_scorer(
    metric: Callable[..., float],
    *,
    greater_is_better: bool = True,
    response_method: str | tuple[str, ...] = "predict",
    **kwargs: Any,
) -> Callable[..., float]:
    """Make a scorer for a group metric, with ``group_labels`` routed to it.

    The scorer is a :func:`sklearn.metrics.make_scorer` scorer whose
    ``group_labels`` are requested through metadata routing, so it works in
    ``GridSearchCV``, ``RandomizedSearchCV``, ``HalvingGridSearchCV`` and
    ``cross_validate``: pass the groups to ``fit`` as ``group_labels=``
    (``params={"group_labels": g}`` for ``cross_validate``). They are indexed
    like ``X``, so each fold is scored with its own rows' groups.

    The name ``group_labels`` does not clash with ``groups``, which
    splitters such as ``GroupKFold`` consume; both can be passed together.

    Metadata routing must be on: ``sklearn.set_config(enable_metadata_routing=True)``.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_pred, *, group_labels, **kwargs)``, for example
        :func:`worst_group_accuracy` or :func:`mean_group_accuracy`.
    greater_is_better : bool, default=True
        Whether a higher ``metric`` is better.
    response_method : str or tuple of str, default="predict"
        Estimator method whose output is passed to ``metric`` as ``y_pred``.
    **kwargs
        Fixed extra arguments of ``metric`` (for example ``group_weights`` of
        :func:`weighted_group_accuracy`). ``group_labels`` cannot be fixed.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, group_labels=g)``. It keeps requesting
        ``group_labels`` when ``set_score_request`` is called again (for
        example to add ``sample_weight=True``).

    Raises
    ------
    RuntimeError
        If metadata routing is off.

    Notes
    -----
    A forgotten ``group_labels``, or routing switched off after the scorer
    was made, raises :class:`~jtt_sklearn.exceptions.MissingGroupLabelsError`,
    which stops a search whatever its ``error_score``: it derives from
    ``BaseException`` because searches turn every ``Exception`` of a scorer
    into a NaN score. When ``fit`` gets other metadata (for example
    ``groups`` for ``GroupKFold``) the check already runs while the search
    routes them, before any fitting. Rows with the unknown group
    ``UNKNOWN_GROUP`` among the scored ones (``cv=3`` on
    :func:`~jtt_sklearn.model_selection.make_validation_protocol`'s data, or
    ``return_train_score=True``) raise :class:`~jtt_sklearn.exceptions.UnknownGroupLabelsError`,
    another ``BaseException``, for the same reason. Other scoring failures
    (a fold with a single group) follow ``error_score``; use
    ``error_score="raise"``.

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from jtt_sklearn.metrics import make_group_scorer, worst_group_accuracy
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(120, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> groups = 2 * y + (X[:, 1] > 0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     scorer = make_group_scorer(worst_group_accuracy)
    ...     search = GridSearchCV(
    ...         LogisticRegression(), {"C": [0.01, 1.0]}, scoring=scorer, cv=3,
    ...         error_score="raise",
    ...     ).fit(X, y, group_labels=groups)
    >>> scorer
    make_group_scorer(worst_group_accuracy, response_method='predict')
    >>> search.best_params_
    {'C': 1.0}
    """
    if not get_config()["enable_metadata_routing"]:
        raise RuntimeError(
            "Group scorers receive group_labels through scikit-learn's metadata "
            f"routing, which is off. Switch it on first with:\n    {_ROUTING_ON}"
        )
    if not callable(metric):
        raise TypeError(f"metric must be a callable; got {metric!r}.")
    if "group_labels" in kwargs:
        raise ValueError(
            "group_labels cannot be fixed when making the scorer: they differ for "
            "every fold. Pass them to fit instead, e.g. search.fit(X, y, "
            "group_labels=g)."
        )
    parameters = inspect.signature(metric).parameters.values()
    if not any(p.name == "group_labels" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        raise ValueError(
            f"metric {getattr(metric, '__name__', metric)!r} does not accept a "
            "group_labels keyword argument; use a group metric such as "
            "worst_group_accuracy."
        )
    # make_scorer validates the arguments; the subclass adds the group checks.
    base = make_scorer(
        metric,
        greater_is_better=greater_is_better,
        response_method=response_method,
        **kwargs,
    )
    scorer = _GroupScorer(base._score_func, base._sign, base._kwargs, base._response_method)
    return scorer.set_score_request(group_labels=True)


def make_worst_group_scorer() -> Callable[..., float]:
    """Scorer for :func:`worst_group_accuracy`, JTT's model-selection metric.

    Equivalent to ``make_group_scorer(worst_group_accuracy)``; see
    :func:`make_group_scorer`. Metadata routing must be on.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, group_labels=g)``.

    Examples
    --------
    >>> import sklearn
    >>> from jtt_sklearn.metrics import make_worst_group_scorer
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     scorer = make_worst_group_scorer()
    >>> scorer
    make_group_scorer(worst_group_accuracy, response_method='predict')
    """
    return make_group_scorer(worst_group_accuracy)


def make_worst_class_scorer() -> Callable[..., float]:
    """Scorer for :func:`worst_class_accuracy`: the lowest per-class recall.

    A plain :func:`sklearn.metrics.make_scorer` scorer. It needs no group
    labels, so it works in any scikit-learn search or ``cross_validate``
    with metadata routing off (or on), with any ``cv``. Use it to choose
    ``T`` and ``lambda_up`` when the validation set has no group labels:
    the classes then stand in for the groups, which catches a shortcut that
    fails a whole class but not one that fails a group within every class.
    Classes absent from the scored rows are ignored.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``.

    See Also
    --------
    make_worst_group_scorer : The same with groups, JTT's own selection metric.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from jtt_sklearn.metrics import make_worst_class_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] > 1).astype(int)  # class 1 is the rare one
    >>> search = GridSearchCV(
    ...     LogisticRegression(), {"class_weight": [None, "balanced"]},
    ...     scoring=make_worst_class_scorer(), cv=3,
    ... ).fit(X, y)
    >>> make_worst_class_scorer()
    make_scorer(worst_class_accuracy, response_method='predict')
    >>> search.best_params_
    {'class_weight': 'balanced'}
    """
    return make_scorer(worst_class_accuracy)
