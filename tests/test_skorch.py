"""The skorch adapters: settings refused before stage 1 trains, held-out rows, and batch fetching.

JTT's default skorch dataset fetches whole batches; it gives the same models as skorch's own
per-row Dataset, and user datasets and collate functions are left alone.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from skorch import NeuralNetBinaryClassifier
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, default_collate

from jtt_sklearn import JTTClassifier
from jtt_sklearn._skorch import SkorchDatasetWithBatchFetch, use_batch_fetching
from jtt_sklearn.utils import collate_batched

from ._fixtures import float32_classification, linear_skorch_net, noisy_rows
from ._nets import EPOCHS_TRAINED, CountEpochs, RecordingMLP, make_net, skorch_data


@pytest.fixture(autouse=True)
def clear_epoch_log():
    EPOCHS_TRAINED.clear()


@pytest.fixture
def data():
    return float32_classification(150, 6)


# --- Settings refused before stage 1 trains -------------------------------------------------------


@pytest.mark.parametrize(
    "final_params, match",
    [
        ({"no_such_param": 1}, "no_such_param"),
        ({"module__no_such_arg": 1}, "module__no_such_arg"),
        ({"optimizer__no_such_arg": 1}, "optimizer__no_such_arg"),
        ({"iterator_train__no_such_arg": 1}, "iterator_train__no_such_arg"),
        ({"callbacks__nope__x": 1}, "nope"),
    ],
)
def test_bad_final_params_fail_before_stage_1_trains(final_params, match):
    X, y = float32_classification(120, 6)
    clf = JTTClassifier(make_net(max_epochs=6, callbacks=[CountEpochs()]), T=3, final_params=final_params)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert EPOCHS_TRAINED == []


def test_final_params_checks_accept_what_skorch_accepts():
    X, y = float32_classification(120, 6)
    clf = JTTClassifier(
        make_net(max_epochs=6),
        T=1,
        random_state=0,
        final_params={"module__hidden": 8, "optimizer__momentum": 0.5, "iterator_train__num_workers": 0},
    ).fit(X, y)
    assert clf.final_estimator_.module_.body[0].out_features == 8


class MyLoader(DataLoader):
    pass


def test_a_custom_iterator_train_fails_before_stage_1_trains():
    X, y = float32_classification(120, 6)
    clf = JTTClassifier(make_net(max_epochs=6, callbacks=[CountEpochs()], iterator_train=MyLoader), T=3)
    with pytest.raises(ValueError, match="iterator_train"):
        clf.fit(X, y)
    assert EPOCHS_TRAINED == []


def test_a_sampler_set_on_the_base_fails_before_stage_1_trains():
    X, y = float32_classification(120, 6)
    clf = JTTClassifier(make_net(max_epochs=6, callbacks=[CountEpochs()], iterator_train__sampler=None), T=3)
    with pytest.raises(ValueError, match="sampler"):
        clf.fit(X, y)
    assert EPOCHS_TRAINED == []


# --- Rows held out by the net's own validation split ----------------------------------------------


def test_skorch_sampler_respects_an_internal_validation_split():
    from skorch.dataset import ValidSplit

    X, y = skorch_data(n=100)
    net = make_net(module=RecordingMLP, max_epochs=1, lr=0.01, train_split=ValidSplit(5))
    with pytest.warns(UserWarning, match="train_split=None"):
        clf = JTTClassifier(net, T=1, lambda_up=4, random_state=0).fit(X, y)
    seen = np.concatenate(clf.final_estimator_.module_.seen)
    train_rows = np.unique(seen)
    assert train_rows.size == 80  # the 20 held-out rows are never trained on
    counts = np.bincount(seen, minlength=len(y))[train_rows]
    np.testing.assert_array_equal(counts, clf.sample_multiplicity_[train_rows])


# --- Batch fetching -------------------------------------------------------------------------------


class PerRowDataset(Dataset):
    """skorch's own Dataset under another name.

    JTT leaves user datasets alone, so this is the per-row path.
    """


def _net(**params):
    return make_net(max_epochs=4, batch_size=16, iterator_train__shuffle=True, **params)


def _fit_both(make_base, X, y, **jtt_params):
    fast = JTTClassifier(make_base(), T=2, lambda_up=6, random_state=0, **jtt_params).fit(X, y)
    plain = JTTClassifier(
        make_base(dataset=PerRowDataset), T=2, lambda_up=6, random_state=0, **jtt_params
    ).fit(X, y)
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
    [
        pd.DataFrame(np.zeros((6, 2), dtype=np.float32)),
        {"a": np.zeros((6, 2), dtype=np.float32)},
        np.array(["a"] * 6, dtype=object),
    ],
    ids=["dataframe", "dict", "object"],
)
def test_other_inputs_take_the_per_row_path(X):
    dataset = SkorchDatasetWithBatchFetch(X, np.zeros(6, dtype=np.int64))
    assert not dataset.fetches_batches_
    assert isinstance(dataset.__getitems__([0, 1]), list)


def test_user_datasets_and_collate_functions_are_left_alone():
    assert _net(dataset=PerRowDataset).get_params()["dataset"] is PerRowDataset
    for params in (
        {"dataset": PerRowDataset},
        {"iterator_train__collate_fn": default_collate},
        {"iterator_valid": object},
    ):
        net = use_batch_fetching(_net(**params))
        assert net.dataset is not SkorchDatasetWithBatchFetch
    assert use_batch_fetching(_net()).dataset is SkorchDatasetWithBatchFetch


def test_a_dataset_set_for_one_stage_keeps_its_own_collation(data):
    X, y = data
    clf = JTTClassifier(_net(), T=1, random_state=0, final_params={"dataset": PerRowDataset}).fit(X, y)
    # The stage's own dataset gets the loaders' own collation, as the user configured them.
    assert clf.final_estimator_.dataset is PerRowDataset
    assert "iterator_train__collate_fn" not in clf.final_estimator_.get_params()
    assert clf.identifier_.dataset is SkorchDatasetWithBatchFetch
    plain = JTTClassifier(_net(dataset=PerRowDataset), T=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))






def test_nan_that_would_reach_a_bare_net_is_refused_with_the_imputer_advice():
    X, y = noisy_rows()
    X[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity.*SimpleImputer"):
        JTTClassifier(linear_skorch_net(), T=1).fit(X, y)


def test_a_binary_skorch_net_is_refused_by_name_with_the_alternative():
    X, y = noisy_rows()
    net = NeuralNetBinaryClassifier(torch.nn.Linear, module__in_features=4, module__out_features=1, verbose=0)
    with pytest.raises(ValueError, match="NeuralNetBinaryClassifier.*NeuralNetClassifier"):
        JTTClassifier(net, T=1).fit(X, y)
