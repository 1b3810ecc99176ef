"""MultiplicitySampler, its batch sampler and UpsamplingDataLoader: each row served multiplicity times."""

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset
from torch.utils.data import BatchSampler, DataLoader

from jtt_sklearn._skorch import SkorchDatasetWithBatchFetch
from jtt_sklearn.utils import MultiplicitySampler, UpsamplingDataLoader, collate_batched
from jtt_sklearn.utils._sampling import MultiplicityBatchSampler


def test_the_sampler_yields_the_same_order_without_a_python_list_of_the_epoch():
    multiplicity = np.array([1, 3, 1, 2])
    sampler = MultiplicitySampler(multiplicity, random_state=0)
    expected = np.repeat(np.arange(4), multiplicity)
    np.random.default_rng(0).shuffle(expected)
    iterator = iter(sampler)
    assert not isinstance(iterator, type(iter([])))
    assert list(iterator) == expected.tolist()
    assert all(type(index) is int for index in sampler)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("as_arrays", [False, True])
def test_upsampling_batches_are_those_of_a_batch_sampler(drop_last, as_arrays):
    multiplicity = np.random.RandomState(0).randint(1, 5, size=50)
    reference = BatchSampler(
        MultiplicitySampler(multiplicity, random_state=3), batch_size=8, drop_last=drop_last
    )
    sliced = MultiplicityBatchSampler(
        MultiplicitySampler(multiplicity, random_state=3), 8, drop_last, as_arrays
    )
    for _ in range(2):  # a fresh permutation each epoch, the same in both
        expected = list(reference)
        got = [np.asarray(batch).tolist() for batch in sliced]
        assert got == expected
        assert len(sliced) == len(reference)


def test_the_upsampling_loader_serves_batches_as_before():
    X, y = np.arange(60, dtype=np.float32).reshape(20, 3), np.arange(20) % 2
    multiplicity = np.where(np.arange(20) % 4 == 0, 3, 1)
    for dataset in (SkorchDatasetWithBatchFetch(X, y), Dataset(X, y)):
        loader = UpsamplingDataLoader(
            dataset, multiplicity=multiplicity, random_state=0, batch_size=4, collate_fn=collate_batched
        )
        reference = DataLoader(
            Dataset(X, y), sampler=MultiplicitySampler(multiplicity, random_state=0), batch_size=4
        )
        for (Xb, yb), (Xr, yr) in zip(loader, reference, strict=True):
            torch.testing.assert_close(Xb, Xr, rtol=0, atol=0)
            torch.testing.assert_close(yb, yr, rtol=0, atol=0)
