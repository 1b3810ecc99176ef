"""Successive halving over the final model's training length, with stage 1 left at T."""

import numbers
from math import floor, log

from sklearn.base import clone
from sklearn.model_selection import ParameterGrid

from .._base import resolve_epochs_param
from ..utils._warnings import warn_user


def halving_setup(estimator, param_grid, *, factor=3, min_resources="auto"):
    """The estimator and ``HalvingGridSearchCV`` settings that prune JTT's final models.

    The resource is the final model's training length, the base estimator's
    ``epochs_param`` (``base_estimator__max_epochs`` for a skorch net): the
    identification model keeps training for ``T`` epochs, since ``T`` sets
    its length, so ``memory`` (and ``T_grid``) serve every round from one
    stage-1 run. A length set in ``final_params`` is moved onto the base
    estimator, where the resource can vary it; ``max_resources`` is that
    length. ``min_resources="auto"`` makes the last round train at that
    length: ``max_resources // factor**k`` for the largest ``k`` (below the
    rounds the candidates need) that divides it, e.g. 3, 9, 27 epochs for a
    27-epoch net and factor 3, but 8, 24 for 24 epochs. A length no power of
    ``factor`` divides gets one round at full length and a warning.

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
    if not isinstance(factor, numbers.Integral) or isinstance(factor, bool) or int(factor) < 2:
        # Rounds are whole numbers of epochs, factor times longer each.
        raise ValueError(f"factor must be an integer of at least 2; got {factor!r}.")
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
        min_resources = _min_resources_ending_at(max_resources, factor, len(ParameterGrid(param_grid)))
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


def _n_rounds(n_candidates, factor):
    """HalvingGridSearchCV's rounds for ``n_candidates``: until one ``factor``-th is left."""
    return 1 + floor(log(max(n_candidates, 1), factor))


def _min_resources_ending_at(max_resources, factor, n_candidates):
    """The smallest first round whose geometric schedule of rounds ends exactly at ``max_resources``."""
    rounds = _n_rounds(n_candidates, factor)
    k = rounds - 1
    while k > 0 and max_resources % factor**k:
        k -= 1
    if k == 0 and rounds > 1:
        warn_user(
            f"No power of factor={factor} divides the final model's length {max_resources}, so successive "
            "halving cannot end at that length in fewer rounds of full length: every round trains the full "
            f"length. Choose a length divisible by {factor} (e.g. {factor ** (rounds - 1)} or a multiple), "
            "or another factor.",
            UserWarning,
        )
    return max_resources // factor**k
