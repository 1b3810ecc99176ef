"""Opt-in pieces that keep data movement and precision off a GPU's critical path.

None of them is used unless you pass it: each changes how a skorch net runs,
and mixed precision can change results slightly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from torch.utils.data import Dataset


class BatchedTensorDataset(Dataset):
    """Tensors (on any device) served a whole batch per index operation.

    skorch's default dataset fetches rows one at a time and stacks them: on a
    GPU that is one small kernel per row. This dataset implements
    ``__getitems__``, which torch's DataLoader calls with the batch's indices,
    so a batch is one gather. Use it with ``collate_fn=collate_batched``;
    JTTClassifier's upsampling sampler works with it unchanged.

    Parameters
    ----------
    X : torch.Tensor
        Inputs, first dimension the rows. Keep it on the GPU to avoid host
        transfers, or in pinned memory.
    y : torch.Tensor or array-like
        Integer labels ``0..n_classes-1``.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import DataLoader
    >>> from jtt_sklearn.utils import BatchedTensorDataset, collate_batched
    >>> ds = BatchedTensorDataset(torch.arange(10.0).reshape(5, 2), torch.tensor([0, 1, 0, 1, 1]))
    >>> Xb, yb = next(iter(DataLoader(ds, batch_size=3, collate_fn=collate_batched)))
    >>> Xb.shape, yb.tolist()
    (torch.Size([3, 2]), [0, 1, 0])
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor | ArrayLike) -> None:
        self.X = X
        self.y = torch.as_tensor(y, device=X.device)
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)}; pass one label per row.")

    @property
    def targets(self) -> np.ndarray:
        """Labels as numpy, so JTTClassifier reads them without touching X."""
        return self.y.cpu().numpy()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: Any) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X[index], self.y[index]

    def __getitems__(self, indices):
        index = torch.as_tensor(indices, device=self.X.device)
        return self.X[index], self.y[index]


def collate_batched(batch: Any) -> Any:
    """Collate for datasets that stack a whole batch (a tuple) in ``__getitems__``.

    :class:`BatchedTensorDataset` and JTT's default batch-fetching dataset
    return such tuples; a list of rows is stacked by ``default_collate``.
    """
    if isinstance(batch, tuple):
        return batch
    # A single-row fetch (e.g. by __getitem__) falls back to stacking.
    return torch.utils.data.default_collate(batch)


class AutocastModule(nn.Module):
    """Run a module under ``torch.autocast`` (bf16 by default), optionally channels_last.

    Logits are returned in float32 so that the loss is computed in full
    precision. bf16 needs no loss scaling.

    Parameters
    ----------
    module : nn.Module
        The network (for example a torchvision ResNet-50).
    dtype : torch.dtype, default=torch.bfloat16
        Autocast precision.
    channels_last : bool, default=False
        Store conv weights and inputs as NHWC, which tensor cores prefer.
    """

    def __init__(
        self, module: nn.Module, dtype: torch.dtype = torch.bfloat16, channels_last: bool = False
    ) -> None:
        super().__init__()
        self.module = module.to(memory_format=torch.channels_last) if channels_last else module
        self.dtype = dtype
        self.channels_last = channels_last

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.channels_last and X.dim() == 4:
            X = X.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=X.device.type, dtype=self.dtype):
            return self.module(X).float()
