"""The work of each JTT stage, as plain functions (stage 1 is cached through joblib.Memory)."""

import contextlib

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from .callbacks._error_sets import ErrorSetRecorder
from .utils._estimator_params import find_skorch_net, seed_random_states
from .utils._internal_callbacks import OutputWidthCheck, internal_callbacks
from .utils._interrupts import reraise_interrupt
from .utils._seeding import seeded_torch
from .utils._upsampled_fit import fit_upsampled
from .utils._warnings import ignored_in_main_thread


def fit_identifier(estimator, X, y, fit_params, seed, recorder=None, progress=None):
    """Stage 1: fit ``estimator`` by ERM and predict the training set once.

    ``estimator`` is already cloned and set to train for ``T`` epochs. Its
    prediction pass is the estimator's own: batched, without gradients and in
    eval mode for skorch nets. A Ctrl-C raises ``KeyboardInterrupt`` here, so
    that ``memory`` never caches a truncated run.

    Parameters
    ----------
    recorder : ErrorSetRecorder or None
        Attached to the net for this fit only; it records the error sets
        during training, so the final prediction pass is skipped.
    progress : dict or None
        Internal callbacks that show progress (see ``utils._progress``).

    Returns
    -------
    identifier : estimator
        The fitted estimator.
    predictions : ndarray of shape (n_samples,) or None
        Its predictions on the training rows (None with ``recorder``).
    """
    X = unwrap(X)
    stage = "stage 1 (identification)"
    callbacks = dict(progress or {}, **({"error_sets": recorder} if recorder is not None else {}))
    # Stage 1 stops early on purpose; a ConvergenceWarning is expected, not a problem.
    with seeded_torch(seed), ignored_in_main_thread(ConvergenceWarning):
        with guarded_training(estimator, X, y, stage, callbacks):
            identifier = estimator.fit(X, y, **fit_params)
        check_training_loss(identifier, stage=stage)
        predictions = None if recorder is not None else np.asarray(identifier.predict(X)).reshape(-1)
    return identifier, predictions


def fit_identifier_run(estimator, X, y, fit_params, seed, epochs, progress=None):
    """Stage 1 for every T in ``epochs`` at once: one run of ``max(epochs)`` epochs.

    ``estimator`` is (or ends in) a skorch net set to ``max(epochs)`` epochs.
    After each epoch in ``epochs`` it records the error set and a copy of the
    weights. The finished net must still hold the weights of the last
    recording: otherwise something changed them after the last epoch (a
    callback that loads the best epoch), and the recordings would not
    describe shorter runs.

    Returns
    -------
    identifier : estimator
        The estimator after ``max(epochs)`` epochs.
    error_sets : dict of int to ndarray
        Sorted indices of the misclassified rows after each epoch in ``epochs``.
    weights : dict of int to dict
        ``{epoch: {module name: state_dict}}`` after each epoch in ``epochs``.
    """
    recorder = ErrorSetRecorder(epochs=list(epochs), keep_weights=True)
    identifier, _ = fit_identifier(estimator, X, y, fit_params, seed, recorder=recorder, progress=progress)
    net = find_skorch_net(identifier)[0]
    error_sets, weights = recorder.error_sets_, recorder.weights_
    missing = sorted(set(epochs) - set(error_sets))
    if missing:
        raise ValueError(
            f"Stage 1 stopped at epoch {len(net.history)} without recording epoch(s) {missing} of "
            "T_grid (a callback that stops training early?). T_grid needs an identification run "
            "that trains every epoch up to max(T_grid): remove that callback from the "
            "identification net (give it to the final net with final_params)."
        )
    if not _same_weights(net, weights[max(epochs)]):
        raise ValueError(
            "The identification net's weights changed after its last epoch (a callback that "
            "loads a checkpoint or the best epoch at the end of training?), so the weights "
            "recorded during the run do not describe shorter runs. Remove that callback from the "
            "identification net (give it to the final net with final_params), or drop T_grid."
        )
    return identifier, error_sets, weights


def _same_weights(net, recorded):
    return all(
        torch.equal(value.detach().cpu(), recorded[name][key])
        for name in recorded
        for key, value in getattr(net, name + "_").state_dict().items()
    )


def rewind_identifier(identifier, weights, epoch, epochs_param):
    """Make the net of a T_grid run look like an ``epoch``-epoch run.

    Loads the weights recorded after ``epoch``, keeps the history up to
    there and sets the training length back to ``epoch``. The optimizer
    state stays that of the last epoch.
    """
    net, _ = find_skorch_net(identifier)
    for name, state in weights.items():
        getattr(net, name + "_").load_state_dict(state)
    del net.history[epoch:]
    for row in net.history:
        row.pop("error_set_size", None)
    identifier.set_params(**{epochs_param: epoch})
    return identifier


class CacheKeyData:
    """Training data handed to a joblib-cached stage.

    joblib hashes it by content, as it would the bare data, but writes the
    ``repr`` of every argument into the cache's metadata: a list of texts
    would be stored again in full. This wrapper's ``repr`` is one line.
    """

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"<training data: {type(self.value).__name__}>"


def unwrap(X):
    return X.value if isinstance(X, CacheKeyData) else X


def fit_counted_rows(estimator, X, y, multiplicity, *, strategy, fit_params, seed, shuffle_seed, stage, progress=None):
    """Fit ``estimator`` with row ``i`` counted ``multiplicity[i]`` times, seeded; check its loss.

    JTT's stage 2 and the group-balanced baseline both train this way.
    ``seed`` fills the estimator's unset ``random_state`` parameters and seeds
    torch (in a forked RNG); ``shuffle_seed`` orders the upsampled rows.
    """
    if seed is not None:
        seed_random_states(estimator, np.random.RandomState(seed))
    with seeded_torch(seed), guarded_training(estimator, X, y, stage, progress or {}):
        fitted = fit_upsampled(
            estimator, X, y, multiplicity, strategy=strategy, fit_params=fit_params, random_state=shuffle_seed
        )
    check_training_loss(fitted, stage=stage)
    return fitted


@contextlib.contextmanager
def guarded_training(estimator, X, y, stage, callbacks):
    """What both stages wrap their training in.

    JTT's own callbacks (the output-width check, plus ``callbacks``) are on
    the net for this fit only; a Ctrl-C ends the fit with
    ``KeyboardInterrupt``; torch's float64/float32 error becomes advice.
    """
    callbacks = {"output_width": OutputWidthCheck(np.unique(y).size, stage), **callbacks}
    with internal_callbacks(estimator, **callbacks), reraise_interrupt(stage), dtype_errors_explained(X, stage):
        yield


@contextlib.contextmanager
def dtype_errors_explained(X, stage):
    """Turn torch's float64-vs-float32 errors into advice: numpy's default float64 meets float32 weights."""
    try:
        yield
    except RuntimeError as error:
        message = str(error)
        mismatch = ("same dtype" in message or "should be the same" in message or "scalar type" in message)
        if not (mismatch and getattr(X, "dtype", None) == np.float64 and ("Double" in message or "double" in message)):
            raise
        raise TypeError(
            f"{stage} failed because X is float64 and the module's weights are float32 "
            f"(torch: {message.splitlines()[0]}). Pass X.astype(np.float32), or have the module "
            "cast its input (X.float() in forward); the nets of jtt_sklearn.recipes do that."
        ) from error


def check_training_loss(estimator, stage):
    """Raise if a skorch net's training loss is NaN, infinite, or impossible for its criterion.

    A diverged net predicts one class everywhere; its error set would be
    meaningless, so fail loudly instead of training on it. A negative
    ``NLLLoss`` means the module returns logits, not probabilities: the loss
    then falls without bound while the net learns nothing.
    """
    net, _ = find_skorch_net(estimator)
    if net is None or not len(net.history):
        return
    losses = np.asarray(net.history[:, "train_loss"], dtype=float)
    nll = isinstance(getattr(net, "criterion_", None), torch.nn.NLLLoss)
    bad = ~np.isfinite(losses) | ((losses < -1e-3) if nll else False)
    if bad.any():
        epoch = int(np.flatnonzero(bad)[0]) + 1
        raise ValueError(
            f"The training loss of {stage} became {losses[epoch - 1]:.4g} at epoch {epoch}. "
            "Check the criterion: NeuralNetClassifier's default NLLLoss expects "
            "probabilities, so a module that returns logits needs "
            "criterion=torch.nn.CrossEntropyLoss. Otherwise lower the learning rate or "
            "scale the inputs."
        )
