"""Upsampling without copying data: per-row multiplicities and a torch sampler."""

from __future__ import annotations

from collections.abc import Iterator, Sized
from typing import Any, cast

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch.utils.data import DataLoader, Dataset, Sampler, Subset


def upsampling_multiplicity(n_samples: int, error_set: ArrayLike, lambda_up: int) -> np.ndarray:
    """How many times each training row is counted in JTT's final stage.

    Rows in the error set are counted ``lambda_up`` times, every other row
    once, so ``lambda_up=1`` is plain ERM. The official JTT code appends
    ``lambda_up`` extra copies to the full training set, i.e. it counts an
    error row ``lambda_up + 1`` times: pass ``lambda_up + 1`` here to match it.

    Parameters
    ----------
    n_samples : int
        Number of training rows.
    error_set : array-like of int
        Row indices misclassified by the identification model.
    lambda_up : int
        Upsampling factor, at least 1.

    Returns
    -------
    multiplicity : ndarray of shape (n_samples,), dtype int64

    Examples
    --------
    >>> from jtt_sklearn.utils import upsampling_multiplicity
    >>> upsampling_multiplicity(5, [1, 3], lambda_up=4)
    array([1, 4, 1, 4, 1])
    """
    multiplicity = np.ones(n_samples, dtype=np.int64)
    multiplicity[np.asarray(error_set, dtype=np.intp)] = lambda_up
    return multiplicity


class MultiplicitySampler(Sampler):
    """Yield each position ``multiplicity[i]`` times, in a fresh order each epoch.

    Only an index array of length ``multiplicity.sum()`` is built per epoch;
    the data themselves are never copied.

    Parameters
    ----------
    multiplicity : array-like of int, shape (n_samples,)
        Count of each position of the dataset.
    random_state : int, numpy Generator or None
        Seeds the per-epoch permutation.
    shuffle : bool, default=True
        Whether to permute the repeated indices every epoch.
    """

    def __init__(
        self,
        multiplicity: ArrayLike,
        random_state: int | np.random.Generator | None = None,
        shuffle: bool = True,
    ) -> None:
        self.multiplicity = np.asarray(multiplicity, dtype=np.int64)
        self.shuffle = shuffle
        if random_state is None:
            # scikit-learn's convention: None follows the global numpy RNG (np.random.seed).
            random_state = int(np.random.randint(np.iinfo(np.int32).max))
        self._rng = np.random.default_rng(random_state)

    def __len__(self) -> int:
        return int(self.multiplicity.sum())

    def __iter__(self) -> Iterator[int]:
        return _as_python_ints(self.epoch_indices())

    def epoch_indices(self) -> np.ndarray:
        """The positions of one epoch, as an array (a fresh permutation with ``shuffle``)."""
        n = len(self.multiplicity)
        # int32 halves the epoch's index array; the shuffle draws the same permutation.
        positions = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
        indices = np.repeat(positions, self.multiplicity)
        if self.shuffle:
            self._rng.shuffle(indices)
        return indices


def _as_python_ints(indices, chunk=1 << 16):
    """Yield the indices as Python ints a chunk at a time, never the whole epoch as one list."""
    for start in range(0, len(indices), chunk):
        yield from indices[start : start + chunk].tolist()


class MultiplicityBatchSampler(Sampler):
    """The batches of ``BatchSampler(sampler, batch_size, drop_last)``, sliced from one array.

    The same rows in the same order, without passing every index through
    Python one at a time. Batches are numpy arrays when ``as_arrays`` (for
    datasets that fetch a batch with one index operation), lists of ints
    otherwise, as ``BatchSampler`` gives them.
    """

    def __init__(self, sampler, batch_size, drop_last=False, as_arrays=False):
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.as_arrays = as_arrays

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        indices = self.sampler.epoch_indices()
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        for start in range(0, stop, self.batch_size):
            batch = indices[start : start + self.batch_size]
            yield batch if self.as_arrays else batch.tolist()


def _positions_multiplicity(dataset, multiplicity):
    """Map per-row multiplicities onto the positions of ``dataset``.

    skorch hands the training loader either the whole dataset or, when its
    ``train_split`` holds rows out for validation, a ``Subset`` of it.
    """
    # cast: torch types Subset.dataset as a Dataset, which need not have a length; skorch's do.
    if isinstance(dataset, Subset) and len(cast(Sized, dataset.dataset)) == len(multiplicity):
        return multiplicity[np.asarray(dataset.indices)]
    if len(dataset) == len(multiplicity):
        return multiplicity
    raise ValueError(
        f"The training dataset has {len(dataset)} rows but JTT computed "
        f"multiplicities for {len(multiplicity)} rows. Use train_split=None or "
        "skorch.helper.predefined_split(valid_ds) on the base net, or a "
        "train_split that returns a torch Subset of the training data."
    )


class UpsamplingDataLoader(DataLoader):
    """A DataLoader that counts row ``i`` ``multiplicity[i]`` times per epoch.

    JTTClassifier installs it as the final skorch net's ``iterator_train``, so
    upsampling happens through skorch's own extension point and the data are
    never copied. All other keyword arguments go to
    :class:`torch.utils.data.DataLoader`.

    Parameters
    ----------
    dataset : torch Dataset
        The training dataset built by skorch.
    multiplicity : array-like of int
        Count of each row of the full training set.
    random_state : int or None
        Seeds the per-epoch shuffle.
    shuffle : bool, default=True
        Reshuffle the repeated indices every epoch.
    **kwargs
        Passed to :class:`torch.utils.data.DataLoader`.
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        multiplicity: ArrayLike | None = None,
        random_state: int | None = None,
        shuffle: bool = True,
        **kwargs: Any,
    ) -> None:
        if multiplicity is None:
            raise ValueError("UpsamplingDataLoader needs `multiplicity`, one count per training row.")
        if "sampler" in kwargs or "batch_sampler" in kwargs:
            raise ValueError(
                "The base net sets iterator_train__sampler (or batch_sampler), which JTT's "
                "upsampling replaces. Remove it, or pass upsampling='index' to JTTClassifier."
            )
        multiplicity = _positions_multiplicity(dataset, np.asarray(multiplicity))
        sampler = MultiplicitySampler(multiplicity, random_state=random_state, shuffle=shuffle)
        if random_state is not None and kwargs.get("num_workers", 0) > 0:
            kwargs.setdefault("generator", torch.Generator().manual_seed(int(random_state)))
        batch_size = kwargs.pop("batch_size", 1)
        if batch_size is None:  # no automatic batching: the dataset is read one row at a time
            super().__init__(dataset, sampler=sampler, batch_size=None, **kwargs)
            return
        # Batches sliced from the epoch's index array: BatchSampler's batches, less Python per row.
        # Arrays only for JTT's batch-fetching dataset itself (a Subset of it maps indices one by one).
        as_arrays = getattr(dataset, "fetches_batches_", False)
        batch_sampler = MultiplicityBatchSampler(
            sampler, batch_size, kwargs.pop("drop_last", False), as_arrays
        )
        super().__init__(dataset, batch_sampler=batch_sampler, **kwargs)
