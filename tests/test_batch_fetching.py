"""JTT's default skorch dataset fetches whole batches: faster, and the same results (issue 12)."""

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.dataset import Dataset
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from torch.utils.data import BatchSampler, DataLoader, default_collate

from jtt_sklearn import JTTClassifier
from jtt_sklearn.utils import MultiplicitySampler, UpsamplingDataLoader
from jtt_sklearn.utils import collate_batched
from jtt_sklearn._skorch import SkorchDatasetWithBatchFetch, use_batch_fetching
from jtt_sklearn.utils._sampling import MultiplicityBatchSampler

from ._nets import make_net


class PerRowDataset(Dataset):
    """skorch's own Dataset under another name: JTT leaves user datasets alone, so this is the per-row path."""


@pytest.fixture
def data():
    X, y = make_classification(n_samples=150, n_features=6, random_state=0)
    return X.astype(np.float32), y


def _net(**params):
    return make_net(max_epochs=4, batch_size=16, iterator_train__shuffle=True, **params)


def _fit_both(make_base, X, y, **jtt_params):
    fast = JTTClassifier(make_base(), T=2, lambda_up=6, random_state=0, **jtt_params).fit(X, y)
    plain = JTTClassifier(make_base(dataset=PerRowDataset), T=2, lambda_up=6, random_state=0, **jtt_params).fit(X, y)
    return fast, plain


def _net_of(estimator):
    return estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator


def test_a_net_gives_the_same_model_with_batch_fetching(data):
    X, y = data
    fast, plain = _fit_both(_net, X, y)
    for stage in ("identifier_", "final_estimator_"):
        assert _net_of(getattr(fast, stage)).dataset is SkorchDatasetWithBatchFetch
        assert _net_of(getattr(plain, stage)).dataset is PerRowDataset
    np.testing.assert_array_equal(fast.error_set_, plain.error_set_)
    np.testing.assert_array_equal(fast.predict_proba(X), plain.predict_proba(X))


def test_a_pipeline_ending_in_a_net_gives_the_same_model(data):
    X, y = data

    def pipeline(**net_params):
        to_float32 = FunctionTransformer(lambda Z: Z.astype(np.float32))
        return make_pipeline(StandardScaler(), to_float32, _net(**net_params))

    fast, plain = _fit_both(pipeline, X.astype(np.float64), y)
    assert _net_of(fast.final_estimator_).dataset is SkorchDatasetWithBatchFetch
    np.testing.assert_array_equal(fast.predict_proba(X), plain.predict_proba(X))


def test_T_grid_gives_the_same_model(data, tmp_path):
    X, y = data
    fast, plain = _fit_both(_net, X, y, T_grid=[1, 2, 3], memory=tmp_path)
    np.testing.assert_array_equal(fast.error_set_, plain.error_set_)
    np.testing.assert_array_equal(fast.predict_proba(X), plain.predict_proba(X))


def test_tensor_inputs_give_the_same_model(data):
    X, y = data
    fast, plain = _fit_both(_net, torch.from_numpy(X), y)
    np.testing.assert_array_equal(fast.predict_proba(X), plain.predict_proba(X))


@pytest.mark.parametrize(
    "X, y",
    [
        (np.arange(40, dtype=np.float64).reshape(10, 4), np.arange(10) % 3),
        (np.arange(40, dtype=np.float32).reshape(10, 4), None),
        (torch.arange(30).reshape(10, 3), torch.arange(10) % 2),
    ],
    ids=["float64", "no-y", "tensor"],
)
def test_a_fetched_batch_equals_the_collated_rows(X, y):
    dataset = SkorchDatasetWithBatchFetch(X, y)
    indices = [7, 2, 2, 9, 0]
    fetched = collate_batched(dataset.__getitems__(indices))
    collated = default_collate([dataset[i] for i in indices])
    for got, expected in zip(fetched, collated):
        assert got.dtype == expected.dtype
        torch.testing.assert_close(got, expected, rtol=0, atol=0)


@pytest.mark.parametrize(
    "X",
    [pd.DataFrame(np.zeros((6, 2), dtype=np.float32)), {"a": np.zeros((6, 2), dtype=np.float32)}, np.array(["a"] * 6, dtype=object)],
    ids=["dataframe", "dict", "object"],
)
def test_other_inputs_take_the_per_row_path(X):
    dataset = SkorchDatasetWithBatchFetch(X, np.zeros(6, dtype=np.int64))
    assert not dataset.fetches_batches_
    assert isinstance(dataset.__getitems__([0, 1]), list)


def test_user_datasets_and_collate_functions_are_left_alone():
    assert _net(dataset=PerRowDataset).get_params()["dataset"] is PerRowDataset
    for params in ({"dataset": PerRowDataset}, {"iterator_train__collate_fn": default_collate}, {"iterator_valid": object}):
        net = use_batch_fetching(_net(**params))
        assert net.dataset is not SkorchDatasetWithBatchFetch
    assert use_batch_fetching(_net()).dataset is SkorchDatasetWithBatchFetch


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("as_arrays", [False, True])
def test_upsampling_batches_are_those_of_a_batch_sampler(drop_last, as_arrays):
    multiplicity = np.random.RandomState(0).randint(1, 5, size=50)
    reference = BatchSampler(MultiplicitySampler(multiplicity, random_state=3), batch_size=8, drop_last=drop_last)
    sliced = MultiplicityBatchSampler(MultiplicitySampler(multiplicity, random_state=3), 8, drop_last, as_arrays)
    for _ in range(2):  # a fresh permutation each epoch, the same in both
        expected = list(reference)
        got = [np.asarray(batch).tolist() for batch in sliced]
        assert got == expected
        assert len(sliced) == len(reference)


def test_the_upsampling_loader_serves_batches_as_before():
    X, y = np.arange(60, dtype=np.float32).reshape(20, 3), np.arange(20) % 2
    multiplicity = np.where(np.arange(20) % 4 == 0, 3, 1)
    for dataset in (SkorchDatasetWithBatchFetch(X, y), Dataset(X, y)):
        loader = UpsamplingDataLoader(dataset, multiplicity=multiplicity, random_state=0, batch_size=4, collate_fn=collate_batched)
        reference = DataLoader(Dataset(X, y), sampler=MultiplicitySampler(multiplicity, random_state=0), batch_size=4)
        for (Xb, yb), (Xr, yr) in zip(loader, reference, strict=True):
            torch.testing.assert_close(Xb, Xr, rtol=0, atol=0)
            torch.testing.assert_close(yb, yr, rtol=0, atol=0)


def test_tensors_are_checked_on_their_device_without_a_copy_through_numpy(data):
    X, y = data
    X_tensor = torch.from_numpy(X).requires_grad_(True)  # np.asarray of it raises
    with pytest.raises(RuntimeError):
        np.asarray(X_tensor)
    clf = JTTClassifier(_net(), T=1, random_state=0).fit(X_tensor.detach().requires_grad_(True), y)
    assert clf.predict(X_tensor).shape == y.shape
    bad = X_tensor.detach().clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinity"):
        JTTClassifier(_net(), T=1).fit(bad, y)


def test_a_dataset_set_for_one_stage_keeps_its_own_collation(data):
    X, y = data
    clf = JTTClassifier(_net(), T=1, random_state=0, final_params={"dataset": PerRowDataset}).fit(X, y)
    # The stage's own dataset gets the loaders' own collation, as the user configured them.
    assert clf.final_estimator_.dataset is PerRowDataset
    assert "iterator_train__collate_fn" not in clf.final_estimator_.get_params()
    assert clf.identifier_.dataset is SkorchDatasetWithBatchFetch
    plain = JTTClassifier(_net(dataset=PerRowDataset), T=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
