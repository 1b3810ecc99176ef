"""Tiny backbones and Datasets for the embedder's tests; module-level, so that a new session imports them."""

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset


class CountingBackbone(nn.Module):
    """Flatten and a linear map, recording what each forward pass saw.

    The records live on the class: searches clone the embedder, which copies
    the module, and an instance attribute would be a setting in the cache key.
    """

    calls: list = []  # per forward: (batch size, grad enabled, training flag)

    def __init__(self, n_inputs=3 * 4 * 4, n_features=5, dropout=0.0):
        super().__init__()
        with torch.random.fork_rng():  # the same weights in every session, the global RNG untouched
            torch.manual_seed(0)
            self.linear = nn.Linear(n_inputs, n_features)
        self.dropout = nn.Dropout(dropout)

    def forward(self, X):
        type(self).calls.append((len(X), torch.is_grad_enabled(), self.training))
        EVENTS.append(("forward", len(X)))
        return self.dropout(self.linear(X.flatten(1)))

    @classmethod
    def reset(cls):
        cls.calls.clear()
        EVENTS.clear()

    @classmethod
    def rows_seen(cls):
        return sum(n for n, _, _ in cls.calls)


# Reads and forward passes in the order they happened, to show that reading is interleaved with embedding.
EVENTS: list = []


class CountingDataset(Dataset):
    """(image, label) items from a tensor, counting each read."""

    def __init__(self, images, labels=None):
        self.images = images
        self.labels = np.zeros(len(images), dtype=np.int64) if labels is None else labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        EVENTS.append(("read", int(index)))
        return self.images[index], self.labels[index]


class TextLengthBackbone(nn.Module):
    """A 'text backbone': each string's length and its number of words, through a linear map."""

    def __init__(self):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.linear = nn.Linear(2, 3)

    def forward(self, texts):
        assert isinstance(texts, list) and all(isinstance(t, str) for t in texts), texts
        stats = torch.tensor([[len(t), len(t.split())] for t in texts], dtype=torch.float32)
        return self.linear(stats)


def make_images(n=10, seed=0):
    return torch.rand(n, 3, 4, 4, generator=torch.Generator().manual_seed(seed))
