"""Where JTT meets skorch: find the net in a base estimator, check its settings, fetch whole batches."""

import functools
import inspect
import os

import numpy as np
import torch
from skorch import NeuralNet, NeuralNetBinaryClassifier
from skorch.callbacks import Checkpoint
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

from .utils._fast_torch import collate_batched
from .utils._sampling import UpsamplingDataLoader
from .utils._warnings import warn_user

# skorch passes these prefixed parameters to the class of the same name.
_SKORCH_COMPONENTS = ("module", "criterion", "optimizer", "iterator_train", "iterator_valid", "dataset")
# Prefixed names skorch consumes itself rather than passing to the class.
_SKORCH_OWN = {"optimizer__param_groups"}


def find_skorch_net(estimator):
    """Return ``(net, prefix)`` for the skorch net that ``estimator`` trains, or ``(None, None)``.

    ``prefix`` is ``""`` when ``estimator`` is the net itself and ``"step__"``
    when the net is the final step of a Pipeline (possibly nested).
    """
    if isinstance(estimator, NeuralNet):
        return estimator, ""
    steps = getattr(estimator, "steps", None)
    if steps:
        name, last = steps[-1]
        net, prefix = find_skorch_net(last)
        if net is not None:
            return net, f"{name}__{prefix}"
    return None, None


def checkpoint_files(estimator):
    """Paths of the files the fitted net's ``Checkpoint`` callbacks keep (``load_best`` ones clean up)."""
    net, _ = find_skorch_net(estimator)
    paths = []
    for _, callback in getattr(net, "callbacks_", None) or []:
        if isinstance(callback, Checkpoint) and not callback.load_best and callback.dirname is not None:
            formatted = callback.get_formatted_files(net).values()
            paths += [path for path in formatted if isinstance(path, (str, os.PathLike))]
    return paths


def takes_input_unchecked(estimator):
    """Is ``estimator`` a bare skorch net, which hands X to torch without checking it?

    A Pipeline's earlier steps see X first (and may impute it), so X given to
    a Pipeline is theirs to validate.
    """
    net, prefix = find_skorch_net(estimator)
    return net is not None and prefix == ""


def refuse_binary_net(estimator):
    """skorch's NeuralNetBinaryClassifier takes float targets and one logit; JTT encodes labels as classes."""
    net, prefix = find_skorch_net(estimator)
    if isinstance(net, NeuralNetBinaryClassifier):
        raise ValueError(
            "NeuralNetBinaryClassifier is not supported as base_estimator: JTT trains on class "
            "indices 0..K-1, which its BCE loss cannot take. Use skorch's NeuralNetClassifier with "
            "a module that returns two logits and criterion=torch.nn.CrossEntropyLoss."
        )


def warn_if_rows_held_out(estimator):
    """skorch's default train_split keeps 20% of the rows out of training, error rows included."""
    net, prefix = find_skorch_net(estimator)
    if net is None or net.train_split is None:
        return
    split = net.train_split
    if isinstance(split, functools.partial) and getattr(split.func, "__name__", "") == "_make_split":
        return  # skorch.helper.predefined_split: a separate validation set, every row trains
    warn_user(
        f"The base net's train_split ({split!r}) holds part of the training rows out of both "
        "stages: those rows are never trained on, even when they are in the error set. JTT's "
        "validation is the group-labelled split: set "
        f"{prefix}train_split=None, or skorch.helper.predefined_split(valid_dataset).",
        UserWarning,
    )


def check_net_params(estimator, *, sampler, stage):
    """Raise for prefixed parameters (``module__*``, ...) that the class they go to does not take.

    skorch passes them on only when it initialises the net, so a typo in
    ``final_params`` would surface after all of stage 1. Classes whose
    ``__init__`` takes ``**kwargs`` are not checked. With ``sampler``,
    ``iterator_train`` becomes JTT's :class:`UpsamplingDataLoader`, which
    must be able to replace the user's.
    """
    net, prefix = find_skorch_net(estimator)
    if net is None:
        return
    if sampler:
        check_iterator_train(net)
    params = net.get_params(deep=False)
    for component in _SKORCH_COMPONENTS:
        target = UpsamplingDataLoader if component == "iterator_train" and sampler else params.get(component)
        accepted = _init_params(target)
        if accepted is None:
            continue
        for key in sorted(params):
            name = key[len(component) + 2 :]
            if (
                key.startswith(component + "__")
                and key not in _SKORCH_OWN
                and "__" not in name
                and name not in accepted
            ):
                raise ValueError(
                    f"{stage} sets {prefix}{key}, but {target.__name__} takes no argument "
                    f"{name!r} (it takes {sorted(accepted)}). Fix the name in final_params or the "
                    "base estimator; skorch would only find out after stage 1 has trained."
                )


def check_iterator_train(net):
    """The sampler path replaces ``iterator_train`` and its sampler: refuse what it cannot replace."""
    if net.iterator_train not in (DataLoader, UpsamplingDataLoader):
        raise ValueError(
            f"The base net uses a custom iterator_train ({net.iterator_train!r}); JTT's "
            "sampler upsampling replaces it with UpsamplingDataLoader. Use the default "
            "DataLoader, or pass upsampling='index' to JTTClassifier."
        )
    set_samplers = [
        key for key in ("iterator_train__sampler", "iterator_train__batch_sampler") if key in net.get_params()
    ]
    if set_samplers:
        raise ValueError(
            f"The base net sets {set_samplers}, which JTT's upsampling replaces. Remove it, or "
            "pass upsampling='index' to JTTClassifier."
        )


def _init_params(cls):
    """Names ``cls.__init__`` takes, or None when it cannot tell (not a class, or **kwargs)."""
    if not isinstance(cls, type):
        return None
    names = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        try:
            signature = inspect.signature(vars(klass)["__init__"])  # klass's own, as tested above
        except (TypeError, ValueError):
            return None
        kinds = {p.kind for p in signature.parameters.values()}
        names |= {
            p.name for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }
        if inspect.Parameter.VAR_KEYWORD not in kinds:
            return names - {"self"}
        if klass is not UpsamplingDataLoader:
            return None  # **kwargs of a user's class: anything may be fine
    return None


# Batch fetching. skorch's Dataset returns one row per __getitem__ and torch's default_collate stacks
# the rows again: per batch of 64 rows, 64 indexing calls, 128 tensor conversions and two stacks.
# The dataset below answers __getitems__ (a whole batch per index operation) with the same rows,
# order, values and dtypes, so results do not change.


def _is_dense(data):
    if isinstance(data, torch.Tensor):
        return data.layout == torch.strided
    return isinstance(data, np.ndarray) and data.dtype.kind in "biufc"


class SkorchDatasetWithBatchFetch(Dataset):
    """skorch's ``Dataset``, plus ``__getitems__`` for numpy arrays and tensors.

    Used with ``collate_fn=collate_batched`` in both iterators. X that is not
    a numpy array or a tensor (DataFrames, dicts, sparse matrices, lists of
    texts) takes skorch's per-row path unchanged.
    """

    def __init__(self, X, y=None, length=None):
        super().__init__(X, y=y, length=length)
        self.fetches_batches_ = _is_dense(X) and (y is None or _is_dense(y))

    def __getitems__(self, indices):
        if not self.fetches_batches_:
            return [self[i] for i in indices]
        X = self.X[_as_index(indices, self.X)]
        if isinstance(X, np.ndarray):
            X = torch.as_tensor(X)
        if self.y is None:
            # skorch's per-row placeholder is torch.Tensor([0]); stacked, one zero per row.
            y = torch.zeros((len(indices), 1))
        else:
            y = self.y[_as_index(indices, self.y)]
            y = torch.as_tensor(y) if isinstance(y, np.ndarray) else y
        return X, y


def _as_index(indices, data):
    if isinstance(data, torch.Tensor):
        return torch.as_tensor(indices, dtype=torch.long, device=data.device)
    return np.asarray(indices, dtype=np.intp)


def use_batch_fetching(estimator):
    """Switch the skorch net in ``estimator`` to batch fetching, where that changes nothing but speed.

    Only a net that kept skorch's default ``dataset`` and the default
    collation of both iterators (DataLoader, no ``collate_fn``) is changed;
    user datasets, collate functions and loaders are left alone.
    """
    net, prefix = find_skorch_net(estimator)
    if net is None or net.dataset is not Dataset or net.get_params_for("dataset"):
        return estimator
    params = net.get_params()
    if any(f"{name}__collate_fn" in params for name in ("iterator_train", "iterator_valid")):
        return estimator
    loaders = (net.iterator_train, net.iterator_valid)
    if not all(isinstance(loader, type) and issubclass(loader, DataLoader) for loader in loaders):
        return estimator
    return estimator.set_params(
        **{
            f"{prefix}dataset": SkorchDatasetWithBatchFetch,
            f"{prefix}iterator_train__collate_fn": collate_batched,
            f"{prefix}iterator_valid__collate_fn": collate_batched,
        }
    )
