"""JTT's default skorch dataset: a whole batch per index operation, the same batches as skorch's.

skorch's ``Dataset`` returns one row per ``__getitem__`` and torch's
``default_collate`` stacks the rows again: per batch of 64 rows, 64 indexing
calls, 128 tensor conversions and two stacks. :class:`BatchFetchingDataset`
implements ``__getitems__``, which torch's DataLoader calls with all the
indices of a batch, and returns the batch already stacked, as a tuple that
:func:`~jtt_sklearn.utils.collate_batched` passes through. The rows of each batch, their
order, values and dtypes are those of the per-row path, so results do not
change. X that is not a numpy array or a tensor (DataFrames, dicts, sparse
matrices, lists of texts) takes the per-row path unchanged.
"""

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

from ._estimator_params import find_skorch_net
from ._fast_torch import collate_batched


def _is_dense(data):
    if isinstance(data, torch.Tensor):
        return data.layout == torch.strided
    return isinstance(data, np.ndarray) and data.dtype.kind in "biufc"


class BatchFetchingDataset(Dataset):
    """skorch's ``Dataset``, plus ``__getitems__`` for numpy arrays and tensors.

    Use it with ``collate_fn=collate_batched`` in both iterators;
    :func:`use_batch_fetching` sets that up on a net that kept skorch's
    default dataset.
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
            f"{prefix}dataset": BatchFetchingDataset,
            f"{prefix}iterator_train__collate_fn": collate_batched,
            f"{prefix}iterator_valid__collate_fn": collate_batched,
        }
    )
