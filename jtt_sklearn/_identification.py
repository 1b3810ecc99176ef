"""Stage 1: train the identification model for T epochs; the training rows it gets wrong are the error set.

With ``T_grid``, one run of ``max(T_grid)`` epochs records the error set and
the weights after each epoch in ``T_grid``, and is then rewound to ``T``.
Both runs are cached through ``memory`` and return the same
:class:`IdentificationRun`.
"""

from numbers import Integral
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import EarlyStopping

from ._cache import call_cached
from ._skorch import find_skorch_net
from ._training import stage_training
from .callbacks._error_sets import ErrorSetRecorder
from .exceptions import EmptyErrorSetWarning, WeakIdentifierWarning
from .utils._warnings import warn_user

STAGE = "stage 1 (identification)"


class IdentificationRun(NamedTuple):
    """What a (cached) stage-1 run returns."""

    identifier: Any
    """The trained identification model."""
    error_sets: dict
    """``{T: sorted int64 indices of the misclassified training rows}`` for each recorded T."""
    weights: dict
    """``{T: {module name: state_dict}}`` for a ``T_grid`` run; empty otherwise."""


def identify_errors(identifier, X, y, *, T, T_grid, epochs_param, fit_params, seed, memory, progress):
    """Train ``identifier`` (a seeded clone set to ``T`` epochs); return it and its error set.

    ``X`` is a :class:`~jtt_sklearn.utils._validation.TrainingData`; ``T_grid`` is None or
    the sorted epochs that :func:`check_T_grid` returned; ``memory`` is a
    :class:`joblib.Memory`.
    Warns when the error set is empty, or when stage 1 did worse than always
    predicting the majority class (its errors are then close to random).
    """
    if T_grid is not None:
        if memory.location is None:
            warn_user(
                "T_grid without memory trains stage 1 for max(T_grid) epochs in every fit and "
                "shares nothing between fits. Pass memory=<directory> so that a search reuses "
                "one identification run per fold.",
                UserWarning,
            )
        identifier.set_params(**{epochs_param: T_grid[-1]})
    train, epochs = (_train_and_find_errors, T) if T_grid is None else (_train_for_every_T, T_grid)
    run = call_cached(
        memory, train, identifier, X.value, y, fit_params, seed, epochs, progress=progress,
        key=(STAGE, identifier, X, y, fit_params, seed, epochs),  # what decides the run
    )  # fmt: skip
    identifier = run.identifier if T_grid is None else _rewound(run.identifier, run.weights[T], T, epochs_param)
    # A plain array, also when the cache is memory-mapped.
    error_set = np.asarray(run.error_sets[T], dtype=np.int64)
    _warn_if_uninformative(error_set, y, identifier, T, epochs_param)
    return identifier, error_set


def _train_and_find_errors(identifier, X, y, fit_params, seed, T, progress=None):
    """Fit by ERM and predict the training rows once (batched, no gradients, eval mode for nets)."""
    with _stage_1_training(identifier, X, y, seed, progress):
        identifier.fit(X, y, **fit_params)
        predicted = np.asarray(identifier.predict(X)).reshape(-1)
    return IdentificationRun(identifier, {T: np.flatnonzero(predicted != y).astype(np.int64)}, {})


def _train_for_every_T(identifier, X, y, fit_params, seed, epochs, progress=None):
    """One run of ``max(epochs)`` epochs; records the error set and weights after each epoch in ``epochs``.

    The finished net must still hold the weights of the last recording:
    otherwise something changed them after the last epoch (a callback that
    loads the best epoch), and the recordings would not describe shorter runs.
    """
    recorder = ErrorSetRecorder(epochs=list(epochs), keep_weights=True)
    callbacks = {**(progress or {}), "error_sets": recorder}
    with _stage_1_training(identifier, X, y, seed, callbacks):
        identifier.fit(X, y, **fit_params)
    net = find_skorch_net(identifier)[0]
    missing = sorted(set(epochs) - set(recorder.error_sets_))
    if missing:
        raise ValueError(
            f"Stage 1 stopped at epoch {len(net.history)} without recording epoch(s) {missing} of "
            "T_grid (a callback that stops training early?). T_grid needs an identification run "
            "that trains every epoch up to max(T_grid): remove that callback from the "
            "identification net (give it to the final net with final_params)."
        )
    if not _same_weights(net, recorder.weights_[max(epochs)]):
        raise ValueError(
            "The identification net's weights changed after its last epoch (a callback that "
            "loads a checkpoint or the best epoch at the end of training?), so the weights "
            "recorded during the run do not describe shorter runs. Remove that callback from the "
            "identification net (give it to the final net with final_params), or drop T_grid."
        )
    error_sets = {epoch: np.asarray(errors, dtype=np.int64) for epoch, errors in recorder.error_sets_.items()}
    return IdentificationRun(identifier, error_sets, recorder.weights_)


def _stage_1_training(identifier, X, y, seed, callbacks):
    # Stage 1 stops early on purpose: a ConvergenceWarning is expected, not a problem.
    return stage_training(
        identifier,
        X,
        n_classes=np.unique(y).size,
        stage=STAGE,
        seed=seed,
        callbacks=callbacks,
        quiet=ConvergenceWarning,
    )


def _same_weights(net, recorded):
    return all(
        torch.equal(value.detach().cpu(), recorded[name][key])
        for name in recorded
        for key, value in getattr(net, name + "_").state_dict().items()
    )


def _rewound(identifier, weights, epoch, epochs_param):
    """The net of a T_grid run as an ``epoch``-epoch run: its weights, history and length then.

    The optimizer state stays that of the last epoch.
    """
    net, _ = find_skorch_net(identifier)
    for name, state in weights.items():
        getattr(net, name + "_").load_state_dict(state)
    del net.history[epoch:]
    for row in net.history:
        row.pop("error_set_size", None)
    identifier.set_params(**{epochs_param: epoch})
    return identifier


def check_T_grid(identifier, T, T_grid, epochs_param):
    """Return ``T_grid`` as a sorted tuple of epochs, or raise if one run cannot serve every T in it.

    The recordings of one ``max(T_grid)``-epoch run equal shorter runs only
    for skorch nets whose training does not depend on ``max_epochs``.
    Callbacks sized by it say so with a true ``sized_by_max_epochs``
    attribute (as :class:`~jtt_sklearn.recipes.LinearSchedule`).
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
    net, prefix = find_skorch_net(identifier)
    if net is None:
        raise ValueError(
            f"T_grid needs a skorch net as base estimator (alone or as a Pipeline's last step); "
            f"got {type(identifier).__name__}. For other estimators set memory= only: it caches one "
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
        "depend on max_epochs": [
            cb for cb in callbacks if getattr(_callback(cb), "sized_by_max_epochs", False)
        ],
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
    return isinstance(value, Integral) and not isinstance(value, bool) and int(value) >= 1


def _is_early_stopping(callback):
    return isinstance(callback, EarlyStopping) or (
        isinstance(callback, type) and issubclass(callback, EarlyStopping)
    )


def _callback(entry):
    return entry[1] if isinstance(entry, tuple) else entry


def _callback_name(entry):
    cb = _callback(entry)
    return entry[0] if isinstance(entry, tuple) else getattr(cb, "__name__", type(cb).__name__)


def _warn_if_uninformative(error_set, y, identifier, T, epochs_param):
    if error_set.size == 0:
        warn_user(
            "The error set is empty: stage 1 fit the training set perfectly, so nothing "
            "was upsampled and the final model is plain ERM. Shorten T, lower the "
            "learning rate or regularise the base estimator more.",
            EmptyErrorSetWarning,
        )
    correct, majority_count = y.size - error_set.size, np.unique(y, return_counts=True)[1].max()
    if correct < majority_count:
        accuracy, majority = correct / y.size, majority_count / y.size
        length = f"{epochs_param}={T}" if T is not None else "its configured length"
        # Only where T sets an iteration count: for a net, T counts epochs and the remark would mislead.
        libsvm = (
            " (libsvm's max_iter counts solver iterations)" if str(epochs_param).endswith("max_iter") else ""
        )
        warn_user(
            f"Stage 1 classified {accuracy:.1%} of the training rows correctly, less than "
            f"the {majority:.1%} of always predicting the majority class, so the error set "
            f"is close to random. {type(identifier).__name__} with {length} probably stops far "
            f"too early{libsvm}: raise T, pass T=None, or name another epochs_param.",
            WeakIdentifierWarning,
        )
