"""The whole protocol in one call: search on validation, refit on the training rows."""

import inspect

import numpy as np
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from ..metrics import make_worst_group_scorer
from ._protocol import make_validation_protocol, refit_on_train


def tune_on_validation(
    estimator,
    param_grid,
    X_train,
    y_train,
    X_val,
    y_val,
    group_labels_val,
    *,
    train_group_labels=None,
    verbose=0,
    n_jobs=None,
):
    """Choose hyperparameters by worst-group validation accuracy, then refit on training rows.

    Runs ``GridSearchCV`` over :func:`make_validation_protocol` with
    :func:`~jtt_sklearn.metrics.make_worst_group_scorer` (switching metadata
    routing on for the duration of the call) and refits the best candidate
    on the training rows only, as the JTT paper does.

    Parameters
    ----------
    estimator : estimator
        For example a :class:`~jtt_sklearn.JTTClassifier`.
    param_grid : dict or list of dicts
        As for ``GridSearchCV``.
    X_train, y_train : array-like
        Training rows; their groups are not needed.
    X_val, y_val, group_labels_val : array-like
        Validation rows and their groups.
    train_group_labels : array-like, default=None
        Training groups, only for oracle baselines whose ``fit`` takes
        ``group_labels`` (such as
        :class:`~jtt_sklearn.baselines.GroupDROClassifier`). JTT needs none.
    verbose : int, default=0
        ``GridSearchCV`` verbosity; 3 prints one line per candidate.
    n_jobs : int, default=None
        ``GridSearchCV`` parallelism.

    Returns
    -------
    model : estimator
        The best candidate, fitted on the training rows.
    search : GridSearchCV
        The fitted search (``refit=False``), with ``cv_results_`` and
        ``best_params_``.

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
    with config_context(enable_metadata_routing=True):
        protocol = make_validation_protocol(X_train, y_train, X_val, y_val, group_labels_val)
        group_labels, fit_params = protocol.group_labels, {}
        if train_group_labels is not None:
            # An oracle trains on the real training groups; scoring still sees validation rows only.
            group_labels = np.concatenate([np.asarray(train_group_labels), np.asarray(group_labels_val)])
            estimator = clone(estimator).set_fit_request(group_labels=True)
            fit_params = {"group_labels": train_group_labels}
        search = GridSearchCV(
            estimator,
            param_grid,
            cv=protocol.cv,
            scoring=make_worst_group_scorer(),
            refit=False,
            error_score="raise",
            verbose=verbose,
            n_jobs=n_jobs,
        ).fit(protocol.X, protocol.y, group_labels=group_labels)
        model = refit_on_train(search, X_train, y_train, **fit_params)
    return model, search


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
