"""Successive halving over the final model's training length, with stage 1 left at T."""

from sklearn.base import clone

from .._base import resolve_epochs_param


def halving_setup(estimator, param_grid, *, factor=3, min_resources="auto"):
    """The estimator and ``HalvingGridSearchCV`` settings that prune JTT's final models.

    The resource is the final model's training length, the base estimator's
    ``epochs_param`` (``base_estimator__max_epochs`` for a skorch net): the
    identification model keeps training for ``T`` epochs, since ``T`` sets
    its length, so ``memory`` (and ``T_grid``) serve every round from one
    stage-1 run. A length set in ``final_params`` is moved onto the base
    estimator, where the resource can vary it; ``max_resources`` is that
    length. ``min_resources="auto"`` is ``max_resources // factor**2`` (at
    least 1), so that the search runs three rounds.

    Returns
    -------
    estimator : estimator
        A clone, with the final length on its base estimator.
    params : dict
        ``resource``, ``max_resources``, ``min_resources``, ``factor`` and
        ``aggressive_elimination=True`` for ``HalvingGridSearchCV``.
    """
    if "base_estimator" not in estimator.get_params(deep=False) or estimator.base_estimator is None:
        raise ValueError(
            f"search='halving' varies the training length of the base estimator, and "
            f"{type(estimator).__name__} has no base_estimator to vary. Use search='grid'."
        )
    _refuse_T_none(estimator, param_grid)
    base = estimator.base_estimator
    name = resolve_epochs_param(base, getattr(estimator, "epochs_param", "auto"))
    if name is None:
        raise ValueError(
            f"search='halving' varies the final model's training length, but {type(base).__name__} "
            "has no max_epochs or max_iter parameter. Set epochs_param on the JTTClassifier, or use "
            "search='grid'."
        )
    estimator = clone(estimator)
    final_params = dict(getattr(estimator, "final_params", None) or {})
    if name in final_params:
        estimator.set_params(final_params={k: v for k, v in final_params.items() if k != name} or None)
        estimator.set_params(**{f"base_estimator__{name}": final_params[name]})
    max_resources = estimator.get_params()[f"base_estimator__{name}"]
    if min_resources == "auto":
        min_resources = max(1, max_resources // factor**2)
    return estimator, {
        "resource": f"base_estimator__{name}",
        "max_resources": max_resources,
        "min_resources": min_resources,
        "factor": factor,
        "aggressive_elimination": True,
    }


def _refuse_T_none(estimator, param_grid):
    if "T" not in estimator.get_params(deep=False):
        return
    grids = param_grid if isinstance(param_grid, list) else [param_grid]
    if any(T is None for T in [estimator.T] + [T for grid in grids for T in grid.get("T", [])]):
        raise ValueError(
            "search='halving' varies the base estimator's training length, which T=None would pass on "
            "to stage 1 as well: every round would train a new identification model. Give T a value."
        )
