"""The whole protocol in one call: search on validation, refit on the training rows."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, ParameterGrid

from ..metrics import make_worst_class_scorer, make_worst_group_scorer
from ..utils._groups import unknown_groups
from ._halving import halving_setup
from ._protocol import as_search_rows, make_validation_protocol, refit_on_train

# GridSearchCV prints a START and an END line (with the score) per fit, both
# numbered "[CV <fold>/<folds>; <candidate>/<candidates>]", from verbose=10.
_SEARCH_VERBOSE = 10


def tune_on_validation(
    estimator: Any,
    param_grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]],
    X_train: ArrayLike | Any,
    y_train: ArrayLike | Any,
    X_val: ArrayLike | Any,
    y_val: ArrayLike | Any,
    group_labels_val: ArrayLike | None = None,
    *,
    train_group_labels: ArrayLike | None = None,
    search: Literal["grid", "halving"] = "grid",
    factor: int | None = None,
    verbose: int = 0,
    n_jobs: int | None = None,
) -> tuple[Any, Any]:  # (the refitted estimator, the fitted search)
    """Choose hyperparameters by worst-group validation accuracy, then refit on training rows.

    Runs ``GridSearchCV`` over :func:`make_validation_protocol` with
    :func:`~jtt_sklearn.metrics.make_worst_group_scorer` (switching metadata
    routing on for the duration of the call) and refits the best candidate
    on the training rows only, as the JTT paper does. Without
    ``group_labels_val`` it selects by worst-class accuracy instead
    (:func:`~jtt_sklearn.metrics.make_worst_class_scorer`).

    Parameters
    ----------
    estimator : estimator
        For example a :class:`~jtt_sklearn.JTTClassifier`.
    param_grid : dict or list of dicts
        As for ``GridSearchCV``.
    X_train, y_train : array-like, or a torch Dataset and None
        Training rows; their groups are not needed. A torch Dataset (such as
        :func:`~jtt_sklearn.datasets.load_waterbirds`' splits) is searched
        without loading it: images are opened batch by batch.
    X_val, y_val : array-like, or a torch Dataset and None
        Validation rows.
    group_labels_val : array-like of shape (n_val,), default=None
        Groups of the validation rows. None selects by worst-class accuracy
        (the lowest per-class recall) on the validation rows: the classes
        stand in for the groups, which is weaker, since a shortcut that
        fails a group inside every class goes unseen. ``y_val`` must then
        hold at least two classes.
    train_group_labels : array-like, default=None
        Training groups, only for oracle baselines whose ``fit`` takes
        ``group_labels`` (such as
        :class:`~jtt_sklearn.baselines.GroupDROClassifier`). JTT needs none.
    search : {"grid", "halving"}, default="grid"
        ``"grid"`` trains every candidate's final model in full
        (``GridSearchCV``). ``"halving"`` runs ``HalvingGridSearchCV`` over
        the final model's training length (the base estimator's
        ``max_epochs`` or ``max_iter``): every candidate trains briefly,
        the best third goes on three times longer, up to the configured
        length, so final models that validation rules out early stop
        early. Stage 1 keeps training for ``T`` epochs, so with ``memory``
        (and ``T_grid``) every round reuses it. A training length in
        ``final_params`` is moved onto the base estimator, where the search
        can vary it. ``best_params_`` then holds the chosen length too. On
        12 candidates and 27-epoch nets it took 0.53-0.74 of the full grid's
        time with ``factor=3`` and 0.26-0.51 with ``factor=9`` (see
        :doc:`/results`).
    factor : int, default=None
        With ``search="halving"`` only: each round keeps the best
        ``1/factor`` of the candidates and trains them ``factor`` times
        longer; None means scikit-learn's 3. The first round is as short
        as lets the last one end at the configured length. A larger factor
        means fewer rounds and a cheaper search, with less evidence per
        pruning step (:doc:`/results` shows the arithmetic for a 12-candidate
        grid).
    verbose : int, default=0
        0 prints nothing. 1 or more prints what the candidates are scored
        by, then scikit-learn's line per candidate before it is fitted
        (``[CV 1/1; 3/6] START T=1, lambda_up=20``: the one fold of the
        protocol, candidate 3 of 6) and after it is scored (``[CV 1/1; 3/6]
        END ...; score=0.812``), then the chosen candidate. With ``n_jobs``
        the candidate lines come from the workers: they may be out of order,
        and in a notebook they may appear in the terminal that runs it.
    n_jobs : int, default=None
        ``GridSearchCV`` parallelism.

    Returns
    -------
    model : estimator
        The best candidate, fitted on the training rows.
    search : GridSearchCV
        The fitted search (``refit=False``), with ``cv_results_``,
        ``best_params_`` and ``best_score_``. ``search.scoring`` is the
        scorer the candidates were chosen by: ``make_group_scorer(
        worst_group_accuracy, ...)``, or ``make_scorer(worst_class_accuracy,
        ...)`` without ``group_labels_val``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from jtt_sklearn import JTTClassifier
    >>> from jtt_sklearn.datasets import load_colored_digits
    >>> from jtt_sklearn.model_selection import tune_on_validation
    >>> (X, y, _), (X_val, y_val, g_val), _ = load_colored_digits()
    >>> model, search = tune_on_validation(
    ...     JTTClassifier(LogisticRegression(max_iter=500), random_state=0),
    ...     {"lambda_up": [1, 50]}, X, y, X_val, y_val, g_val,
    ... )
    >>> search.best_params_
    {'lambda_up': 50}
    """
    _check_train_group_labels(estimator, train_group_labels)
    # Datasets as the search indexes them (views, nothing loaded), with their labels.
    (X_train, y_train), (X_val, y_val) = as_search_rows(X_train, y_train), as_search_rows(X_val, y_val)
    by_groups = group_labels_val is not None
    with config_context(enable_metadata_routing=True):
        if group_labels_val is not None:  # not by_groups: mypy narrows on the test itself
            protocol = make_validation_protocol(X_train, y_train, X_val, y_val, group_labels_val)
            scorer, score_name = make_worst_group_scorer(), "worst-group accuracy"
            search_params = {"group_labels": protocol.group_labels}
        else:
            # The classes as stand-in groups: the same checks, and the same PredefinedSplit.
            protocol = make_validation_protocol(X_train, y_train, X_val, y_val, _class_ids(y_val))
            scorer, score_name = make_worst_class_scorer(), "worst-class accuracy"
            search_params = {}
        fit_params = {}
        if train_group_labels is not None:
            # An oracle trains on the real training groups; scoring still sees validation rows only.
            search_params["group_labels"] = _oracle_group_labels(
                train_group_labels, group_labels_val, len(protocol.y)
            )
            estimator = clone(estimator).set_fit_request(group_labels=True)
            fit_params = {"group_labels": train_group_labels}
        ((train, test),) = protocol.cv.split()
        _log(
            verbose,
            (
                f"{len(ParameterGrid(param_grid))} candidates, shown as [CV 1/1; k/N]; scoring "
                f"each by {score_name} on the {len(test)} validation rows after "
                f"fitting it on the {len(train)} training rows"
                + ("" if by_groups else " (no group_labels_val: the classes stand in for the groups)")
            ),
        )
        search_cls, estimator, search_kwargs = _search_class(search, estimator, param_grid, factor)
        fitted_search = search_cls(
            estimator,
            param_grid,
            cv=protocol.cv,
            scoring=scorer,
            refit=False,
            error_score="raise",
            verbose=_SEARCH_VERBOSE if verbose else 0,
            n_jobs=n_jobs,
            **search_kwargs,
        ).fit(protocol.X, protocol.y, **search_params)
        n_candidates = len(fitted_search.cv_results_["params"])
        _log(
            verbose,
            (
                f"chose candidate {fitted_search.best_index_ + 1}/{n_candidates}: "
                f"{fitted_search.best_params_} ({score_name} {fitted_search.best_score_:.3f}); "
                "refitting it on the training rows"
            ),
        )
        model = refit_on_train(fitted_search, X_train, y_train, **fit_params)
    return model, fitted_search


def _search_class(search, estimator, param_grid, factor):
    """The search class, the estimator to search and extra settings for ``search``."""
    if search not in ("grid", "halving"):
        raise ValueError(f"search must be 'grid' or 'halving', got {search!r}.")
    if search == "grid":
        if factor is not None:
            raise ValueError(
                f"factor={factor!r} sets successive halving's pruning rate, which search='grid' does "
                "not do. Pass search='halving', or leave factor unset."
            )
        return GridSearchCV, estimator, {}
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    estimator, params = halving_setup(estimator, param_grid, factor=3 if factor is None else factor)
    # The training rows have no group: they must never be scored.
    return HalvingGridSearchCV, estimator, {**params, "return_train_score": False}


def _log(verbose, message):
    if verbose:
        print(f"[tune_on_validation] {message}", flush=True)


def _class_ids(y_val):
    """Each validation row's class index, checked to cover two classes, for the protocol's groups."""
    classes, ids = np.unique(np.asarray(y_val), return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"y_val holds a single class ({classes.tolist()}), so worst-class accuracy cannot "
            "tell candidates apart. Pass group_labels_val, or validation rows of at least two "
            "classes."
        )
    return ids.reshape(-1)


def _oracle_group_labels(train_group_labels, group_labels_val, n_rows):
    """The groups routed to an oracle's fit, one per protocol row; it only sees the training ones."""
    train_groups = np.asarray(train_group_labels)
    if group_labels_val is not None:
        return np.concatenate([train_groups, np.asarray(group_labels_val)])
    return np.concatenate([train_groups, unknown_groups(n_rows - len(train_groups), like=train_groups)])


def _check_train_group_labels(estimator, train_group_labels):
    """Oracles need the training groups and the others must not get them; say so clearly."""
    name = type(estimator).__name__
    takes_groups = "group_labels" in inspect.signature(estimator.fit).parameters
    if train_group_labels is not None and not takes_groups:
        raise ValueError(
            f"{name}.fit takes no group_labels, so train_group_labels has nowhere to go: it is "
            "only for oracle baselines such as GroupDROClassifier. JTTClassifier needs no "
            "training groups; drop the argument."
        )
    if train_group_labels is None and takes_groups:
        raise ValueError(
            f"{name} is an oracle baseline that trains on the groups of the training rows: "
            "pass train_group_labels=<one group per training row>."
        )
