"""The one model selection that every method of the quality benchmark goes through.

Every candidate (a point of the method's own grid crossed with the shared weight-decay grid) trains on
the training rows for the dataset's epoch budget, with ``WorstGroupScoring`` and
``Checkpoint(load_best=True)`` on the group-labelled validation rows: each candidate ends as its best
epoch by worst-group validation accuracy. The candidate whose restored model scores highest on the
validation rows is kept (the first in grid order on ties). The test split is never seen here.

ERM, JTT's final model and the two oracles differ only in the estimator and in their own grid
(JTT's ``T`` and ``lambda_up``, Group DRO's ``eta``); the budget, the weight-decay grid, the seed and
the selection are this module's, so they are the same for all of them.
"""

import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid
from skorch.callbacks import Checkpoint

from jtt_sklearn import JTTClassifier
from jtt_sklearn._skorch import find_skorch_net
from jtt_sklearn.callbacks import WorstGroupScoring
from jtt_sklearn.metrics import worst_group_accuracy
from jtt_sklearn.utils._seeding import seeded_torch

# The optimiser's weight decay, for every method and (for JTT) both stages, as the JTT paper sets it.
# 0.1 is the strong L2 that the Group DRO paper found necessary (0.1 on CelebA, 1.0 on Waterbirds, with
# SGD), without which Group DRO memorises small groups. 1.0 was tried first: with these nets' Adam
# (L2 added to the gradient before Adam's scaling) it held every candidate far below its weight-decay-0
# twin (colored_digits seed 0, 18 epochs, validation worst group: every JTT candidate 0.000 against up
# to 0.843, the group-balanced oracle 0.425 against 0.821, Group DRO at eta 0.01 0.366 against 0.821).
WEIGHT_DECAYS = (0.0, 0.1)
MONITOR = "valid_worst_group"


@dataclass
class Selection:
    """What the selection chose for one method, and every candidate's validation score."""

    method: str
    model: Any
    params: dict
    score: float  # worst-group validation accuracy of the chosen model (its best epoch)
    epoch: int  # the chosen model's stopping epoch
    candidates: list = field(default_factory=list)  # (params, score, epoch) per grid point


def _where(estimator):
    """Parameter prefix of the skorch net an estimator trains, and whether callbacks go to final_params."""
    if isinstance(estimator, JTTClassifier):
        _, prefix = find_skorch_net(estimator.base_estimator)
        return f"base_estimator__{prefix}", True
    if hasattr(estimator, "base_estimator"):  # the oracles wrap the net
        _, prefix = find_skorch_net(estimator.base_estimator)
        return f"base_estimator__{prefix}", False
    _, prefix = find_skorch_net(estimator)
    return prefix, False


def fitted_net(model):
    """The fitted skorch net whose epochs were selected (JTT's final model, the oracles' net, or ERM)."""
    inner = getattr(model, "final_estimator_", None) or getattr(model, "estimator_", None) or model
    return find_skorch_net(inner)[0]


def stopping_epoch(model):
    """The epoch Checkpoint restored: the last one that improved worst-group validation accuracy."""
    history = fitted_net(model).history
    best = [row["epoch"] for row in history if row.get(f"{MONITOR}_best")]
    return int(best[-1]) if best else int(history[-1]["epoch"])


def _with_epoch_selection(estimator, callbacks, epochs):
    """A clone of ``estimator`` with the epoch-selection callbacks and the budget on the right net.

    JTT gets them on its final model only (``final_params``): stage 1 must stop at exactly T epochs,
    and ``load_best`` there would change the error set (docs/model_selection.md).
    """
    estimator = clone(estimator)
    prefix, final_only = _where(estimator)
    existing = list(estimator.get_params()[f"{prefix}callbacks"] or [])
    estimator.set_params(**{f"{prefix}max_epochs": epochs})
    if final_only:
        net_prefix = prefix[len("base_estimator__") :]
        final_params = dict(estimator.final_params or {})
        final_params[f"{net_prefix}callbacks"] = existing + callbacks
        return estimator.set_params(final_params=final_params)
    return estimator.set_params(**{f"{prefix}callbacks": existing + callbacks})


def candidates_grid(estimator, own_grid, weight_decays=WEIGHT_DECAYS):
    """The method's own grid (a dict or a list of dicts) crossed with the shared weight-decay grid."""
    prefix, _ = _where(estimator)
    shared = {f"{prefix}optimizer__weight_decay": list(weight_decays)}
    own = own_grid if isinstance(own_grid, list) else [own_grid]
    return [{**shared, **part} for part in own]


def select_on_validation(
    method,
    estimator,
    own_grid,
    train,
    validation,
    *,
    epochs,
    seed,
    validation_inputs=None,
    fit_params=None,
    weight_decays=WEIGHT_DECAYS,
    log=None,
):
    """Fit every candidate with per-epoch worst-group checkpointing; return the best as a Selection.

    Parameters
    ----------
    method : str
        The method's name, for the report.
    estimator : estimator
        ERM's net, a JTTClassifier or an oracle, with its training settings.
    own_grid : dict or list of dict
        The method's own hyperparameters (``{}`` for none).
    train : (X, y)
        Training rows.
    validation : (X, y, group_labels)
        Validation rows: they choose the epoch and the candidate.
    epochs : int
        Training budget of every model this selects (JTT: of its final model).
    seed : int
        Torch is seeded with it around every fit (the methods also take it as ``random_state``).
    validation_inputs : optional
        The validation rows as the skorch net takes them (after a Pipeline's stateless steps);
        ``validation[0]`` by default.
    fit_params : dict, optional
        Passed to every ``fit`` (the oracles' ``group_labels``).
    """
    X_tr, y_tr = train
    X_va, y_va, g_va = validation
    grid = candidates_grid(estimator, own_grid, weight_decays)
    best, candidates = None, []
    with tempfile.TemporaryDirectory(prefix="quality_checkpoint_") as directory:
        callbacks = [
            (
                "worst_group",
                WorstGroupScoring(
                    X_va if validation_inputs is None else validation_inputs,
                    y_va,
                    g_va,
                    name=MONITOR,
                    classes=np.unique(y_tr),
                    per_group=False,
                ),
            ),
            (
                "best_epoch",
                Checkpoint(
                    monitor=f"{MONITOR}_best",
                    dirname=directory,
                    load_best=True,
                    f_optimizer=None,
                    f_criterion=None,
                    f_history=None,
                ),
            ),
        ]
        estimator = _with_epoch_selection(estimator, callbacks, epochs)
        for params in ParameterGrid(grid):
            started = time.perf_counter()
            with seeded_torch(seed):
                model = clone(estimator).set_params(**params).fit(X_tr, y_tr, **(fit_params or {}))
            score = float(worst_group_accuracy(y_va, model.predict(X_va), group_labels=g_va))
            epoch = stopping_epoch(model)
            candidates.append((params, score, epoch))
            if log is not None:
                log(
                    f"    {method} {params}: validation worst group {score:.3f} at epoch {epoch} "
                    f"({time.perf_counter() - started:.0f} s)"
                )
            if best is None or score > best.score:
                best = Selection(method, model, params, score, epoch)
    best.candidates = candidates
    return best
