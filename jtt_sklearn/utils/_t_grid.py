"""Checks for JTTClassifier's T_grid: when may one long identification run stand for shorter ones?"""

from numbers import Integral

import numpy as np

from ._estimator_params import find_skorch_net


def check_T_grid(base, T, T_grid, epochs_param):
    """Return ``T_grid`` as a sorted tuple of epochs, or raise if one run cannot serve every T in it.

    The recordings of one ``max(T_grid)``-epoch run equal shorter runs only
    for skorch nets whose training does not depend on ``max_epochs``.
    Callbacks that size themselves by it say so with a true
    ``sized_by_max_epochs`` attribute (as :class:`~jtt_sklearn.recipes.LinearSchedule`).
    """
    values = np.asarray(T_grid, dtype=object).reshape(-1)
    if values.size == 0 or not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ValueError(f"T_grid must be a non-empty list of positive ints, got {T_grid!r}.")
    epochs = tuple(sorted({int(v) for v in values}))
    if T not in epochs:
        raise ValueError(
            f"T={T} is not in T_grid={list(epochs)}: one identification run of {epochs[-1]} "
            "epochs records the error sets of the T in T_grid only. Add T to T_grid "
            "(use the same values as the search's grid over T)."
        )
    net, prefix = find_skorch_net(base)
    if net is None:
        raise ValueError(
            f"T_grid needs a skorch net as base estimator (alone or as a Pipeline's last step); "
            f"got {type(base).__name__}. For other estimators set memory= only: it caches one "
            "identification model per (T, fold)."
        )
    if epochs_param != prefix + "max_epochs":
        raise ValueError(
            f"T_grid records the error set after each of the net's epochs, but T sets "
            f"{epochs_param!r}; use epochs_param='auto' (or {prefix + 'max_epochs'!r})."
        )
    if net.callbacks == "disable":
        raise ValueError(
            "T_grid records error sets through a skorch callback, but the base net has "
            "callbacks='disable'. Set callbacks=None or a list."
        )
    sized = [_callback_name(cb) for cb in net.callbacks or [] if getattr(_callback(cb), "sized_by_max_epochs", False)]
    if sized:
        raise ValueError(
            f"The identification net's callbacks {sized} depend on max_epochs, so the first T "
            f"epochs of a {epochs[-1]}-epoch run differ from a T-epoch run. Drop T_grid, or give "
            "such callbacks to the final net only (final_params)."
        )
    return epochs


def _callback(entry):
    return entry[1] if isinstance(entry, tuple) else entry


def _callback_name(entry):
    cb = _callback(entry)
    return entry[0] if isinstance(entry, tuple) else getattr(cb, "__name__", type(cb).__name__)
