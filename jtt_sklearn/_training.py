"""What every JTT stage wraps its training in: seeds, JTT's temporary callbacks, Ctrl-C and clear errors."""

import contextlib
import os
import shutil
import signal
import tempfile
import threading

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, Checkpoint

from ._skorch import find_skorch_net
from .utils._seeding import seeded_torch
from .utils._warnings import ignored_in_main_thread

# Names of JTT's own callbacks in a net's callbacks_; never left in a fitted net.
CALLBACK_PREFIX = "jtt_"


@contextlib.contextmanager
def stage_training(estimator, X, *, n_classes, stage, seed, callbacks=None, quiet=None):
    """Train ``estimator`` on ``X`` inside the block as one JTT stage.

    Inside the block torch is seeded with ``seed`` (in a forked RNG; ``None``
    leaves it alone), the net carries JTT's callbacks (the output-width
    check, plus ``callbacks``), its ``load_best`` checkpoints write to a
    directory of this fit's own, and a Ctrl-C ends the fit with
    ``KeyboardInterrupt``; torch's float64/float32 error becomes advice.
    Warnings of category ``quiet`` are silenced. When the block succeeds, a
    diverged training loss raises.
    """
    callbacks = {"output_width": OutputWidthCheck(n_classes, stage), **(callbacks or {})}
    with (
        seeded_torch(seed),
        ignored_in_main_thread(quiet) if quiet else contextlib.nullcontext(),
        temporary_callbacks(estimator, **callbacks),
        private_checkpoint_dirs(estimator),
        reraise_interrupt(stage),
        dtype_errors_explained(X, stage),
    ):
        yield
    check_training_loss(estimator, stage)


@contextlib.contextmanager
def temporary_callbacks(estimator, **callbacks):
    """Add ``callbacks`` (name without prefix to callback) to the skorch net inside ``estimator``.

    skorch uses callback instances as they are, so the caller reads what they
    recorded from its own objects. Afterwards, even after an error, the net's
    ``callbacks`` parameter is the user's again and ``callbacks_`` holds the
    user's callbacks only (plain attributes: ``set_params`` would
    re-initialise them). Nets with ``callbacks="disable"`` get none.
    """
    net, prefix = find_skorch_net(estimator)
    if net is None or net.callbacks == "disable":
        yield
        return
    user_callbacks = net.callbacks
    named = [(CALLBACK_PREFIX + name, callback) for name, callback in callbacks.items()]
    estimator.set_params(**{f"{prefix}callbacks": [*(user_callbacks or []), *named]})
    try:
        yield
    finally:
        net.callbacks = user_callbacks
        if hasattr(net, "callbacks_"):
            net.callbacks_ = [
                (name, cb) for name, cb in net.callbacks_ if not name.startswith(CALLBACK_PREFIX)
            ]


@contextlib.contextmanager
def private_checkpoint_dirs(estimator):
    """Give each ``Checkpoint(load_best=True)`` of the net a fresh directory inside its own, for this fit.

    The candidates of a parallel search are clones that share the user's
    ``dirname``: each would load the best epoch another one saved. With
    ``load_best=True`` the files serve only this fit, which loads them when
    training ends, so the directory is removed afterwards and ``dirname`` is
    the user's again.
    """
    net, _ = find_skorch_net(estimator)
    callbacks = [] if net is None or net.callbacks in (None, "disable") else net.callbacks
    moved = []
    try:
        for entry in callbacks:
            callback = entry[1] if isinstance(entry, tuple) else entry
            if isinstance(callback, Checkpoint) and callback.load_best and callback.dirname is not None:
                parent = os.fspath(callback.dirname) or None
                if parent:
                    os.makedirs(parent, exist_ok=True)
                moved.append((callback, callback.dirname, tempfile.mkdtemp(prefix="jtt-fit-", dir=parent)))
                callback.dirname = moved[-1][2]
        yield
    finally:
        for callback, dirname, private in moved:
            callback.dirname = dirname
            shutil.rmtree(private, ignore_errors=True)


class OutputWidthCheck(Callback):
    """Fail at the first forward pass when the module's outputs do not match the classes.

    A module with more outputs than classes trains without complaint and
    gives ``predict_proba`` extra columns; one with fewer fails deep inside
    the loss. Only ``NeuralNetClassifier`` nets whose module returns a 2-d
    tensor (or a tuple starting with one) are checked.
    """

    def __init__(self, n_classes, stage):
        self.n_classes = n_classes
        self.stage = stage

    def on_train_begin(self, net, **kwargs):
        self.handle_ = None
        module = getattr(net, "module_", None)
        if isinstance(net, NeuralNetClassifier) and isinstance(module, torch.nn.Module):
            self.handle_ = module.register_forward_hook(self._check)

    def _check(self, module, inputs, output):
        self._remove_hook()
        logits = output[0] if isinstance(output, (tuple, list)) and output else output
        if not torch.is_tensor(logits) or logits.ndim != 2 or logits.shape[1] == self.n_classes:
            return
        raise ValueError(
            f"The module of {self.stage} returns {logits.shape[1]} outputs per row, but y has "
            f"{self.n_classes} classes: predict_proba would have the wrong number of columns. "
            f"Give the module one output per class, e.g. module__n_classes={self.n_classes} "
            "(or whatever your module calls its output size)."
        )

    def on_train_end(self, net, **kwargs):
        self._remove_hook()

    def _remove_hook(self):
        handle = getattr(self, "handle_", None)
        if handle is not None:
            handle.remove()
            self.handle_ = None


class _Interrupted:
    def __init__(self):
        self.pressed = False


@contextlib.contextmanager
def reraise_interrupt(stage):
    """Raise ``KeyboardInterrupt`` after the block if Ctrl-C was pressed inside it.

    skorch catches ``KeyboardInterrupt`` inside ``NeuralNet.fit`` and returns
    the half-trained net, but JTT would go on into stage 2 or cache a
    truncated stage 1. skorch's ``EarlyStopping`` raises ``KeyboardInterrupt``
    too, so this wraps the SIGINT handler instead: only a real Ctrl-C that the
    previous handler turned into ``KeyboardInterrupt`` counts, and a handler
    that swallows it (a user's own) is respected. Outside the main thread no
    Ctrl-C arrives, and the block runs unchanged.
    """
    previous = (
        signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    )
    if not callable(previous):  # not the main thread, or SIGINT ignored or left to C code
        yield
        return
    state = _Interrupted()

    def handler(signum, frame):
        try:
            previous(signum, frame)
        except KeyboardInterrupt:
            state.pressed = True
            raise

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if state.pressed:
        raise KeyboardInterrupt(f"interrupted during {stage}; the estimator was left as it was before fit")


@contextlib.contextmanager
def dtype_errors_explained(X, stage):
    """Turn torch's float64-vs-float32 errors into advice: numpy's default float64 meets float32 weights."""
    try:
        yield
    except RuntimeError as error:
        message = str(error)
        mismatch = "same dtype" in message or "should be the same" in message or "scalar type" in message
        if not (
            mismatch
            and getattr(X, "dtype", None) == np.float64
            and ("Double" in message or "double" in message)
        ):
            raise
        raise TypeError(
            f"{stage} failed because X is float64 and the module's weights are float32 "
            f"(torch: {message.splitlines()[0]}). Pass X.astype(np.float32), or have the module "
            "cast its input (X.float() in forward); the nets of jtt_sklearn.recipes do that."
        ) from error


def check_training_loss(estimator, stage):
    """Raise if a skorch net's training loss is NaN, infinite, or impossible for its criterion.

    A diverged net predicts one class everywhere, so its error set would be
    meaningless. A negative ``NLLLoss`` means the module returns logits, not
    probabilities: the loss then falls without bound while the net learns nothing.
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
