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
    values = np.asarray(sorted(T_grid) if isinstance(T_grid, (set, frozenset)) else T_grid, dtype=object)
    if values.ndim != 1 or values.size == 0 or not all(_is_epoch(v) for v in values):
        raise ValueError(f"T_grid must be a flat, non-empty list of ints >= 1 (epochs), got {T_grid!r}.")
    epochs = tuple(sorted({int(v) for v in values}))
    if T is None:
        raise ValueError(
            "T=None trains stage 1 as the base net is configured, which T_grid cannot record. "
            f"Set T to one of T_grid={list(epochs)}, or drop T_grid."
        )
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
    callbacks = net.callbacks or []
    problems = {
        "depend on max_epochs": [cb for cb in callbacks if getattr(_callback(cb), "sized_by_max_epochs", False)],
        # A T-epoch run would stop, or reload its best epoch, within its own T epochs.
        "stop training early": [cb for cb in callbacks if _is_early_stopping(_callback(cb))],
        "reload the best epoch when training ends (load_best=True)": [
            cb for cb in callbacks if getattr(_callback(cb), "load_best", False)
        ],
    }
    for what, found in problems.items():
        if found:
            raise ValueError(
                f"The identification net's callbacks {[_callback_name(cb) for cb in found]} {what}, so "
                f"the first T epochs of one {epochs[-1]}-epoch run are not a T-epoch run. Give such "
                "callbacks to the final net only (final_params), or drop T_grid."
            )
    return epochs


def _is_epoch(value):
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


def _is_early_stopping(callback):
    from skorch.callbacks import EarlyStopping

    return isinstance(callback, EarlyStopping) or (isinstance(callback, type) and issubclass(callback, EarlyStopping))


def _callback(entry):
    return entry[1] if isinstance(entry, tuple) else entry


def _callback_name(entry):
    cb = _callback(entry)
    return entry[0] if isinstance(entry, tuple) else getattr(cb, "__name__", type(cb).__name__)
