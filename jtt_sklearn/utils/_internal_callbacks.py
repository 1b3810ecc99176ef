"""Callbacks that JTTClassifier adds to a net for one fit and takes away afterwards."""

import contextlib

import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback

from ._estimator_params import find_skorch_net

# Names of JTT's own callbacks in a net's callbacks_; never left in a fitted net.
PREFIX = "jtt_"


@contextlib.contextmanager
def internal_callbacks(estimator, **callbacks):
    """Add ``callbacks`` (name without prefix to callback) to the skorch net inside ``estimator``.

    skorch uses callback instances as they are, so the caller reads what
    they recorded from its own objects. Afterwards, even after an error, the net's
    ``callbacks`` parameter is the user's again and ``callbacks_`` holds the
    user's callbacks only (plain attributes: ``set_params`` would
    re-initialise them). Nets with ``callbacks="disable"`` get none.
    """
    net, prefix = find_skorch_net(estimator)
    if net is None or net.callbacks == "disable":
        yield
        return
    user_callbacks = net.callbacks
    named = [(PREFIX + name, callback) for name, callback in callbacks.items()]
    estimator.set_params(**{f"{prefix}callbacks": [*(user_callbacks or []), *named]})
    try:
        yield
    finally:
        net.callbacks = user_callbacks
        if hasattr(net, "callbacks_"):
            net.callbacks_ = [(name, cb) for name, cb in net.callbacks_ if not name.startswith(PREFIX)]


class OutputWidthCheck(Callback):
    """Fail at the first forward pass when the module's outputs do not match the classes.

    A module with more outputs than classes trains without complaint and
    gives ``predict_proba`` extra columns; one with fewer fails deep inside
    the loss. Both are caught on the first batch, before any epoch is spent.
    Only ``NeuralNetClassifier`` nets whose module returns a 2-d tensor (or a
    tuple starting with one) are checked.
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
        if getattr(self, "handle_", None) is not None:
            self.handle_.remove()
            self.handle_ = None
