"""memory= caches the final stage too: a fit already done is loaded, not trained again."""

import signal
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback

import jtt_sklearn._identification as identification
import jtt_sklearn._upsampling as upsampling
from jtt_sklearn import JTTClassifier
from jtt_sklearn.model_selection import tune_on_validation


@pytest.fixture
def trainings(monkeypatch):
    """The stages that trained, in order (each stage enters stage_training once per training)."""
    trained = []
    for module, name in ((identification, "stage 1"), (upsampling, "stage 2")):
        original = module.stage_training

        def counted(*args, _original=original, _name=name, **kwargs):
            trained.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, "stage_training", counted)
    return trained


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = ((X[:, 0] + 0.6 * rng.normal(size=120)) > 0).astype(np.int64)
    return X, y


def _net(**params):
    return NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=4,
        module__out_features=2,
        criterion=torch.nn.CrossEntropyLoss,
        lr=0.1,
        max_epochs=4,
        train_split=None,
        verbose=0,
        **params,
    )


def _stage_2_entries(directory):
    return [p for p in Path(directory).rglob("output.pkl") if "fit_upsampled" in str(p)]


@pytest.mark.parametrize("base", [_net(), LogisticRegression()], ids=["skorch", "sklearn"])
def test_a_second_identical_fit_trains_nothing_and_predicts_the_same(base, tmp_path, trainings):
    X, y = _data()
    first = JTTClassifier(base, T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"]
    second = JTTClassifier(base, T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"]  # both stages came from the cache
    np.testing.assert_array_equal(second.predict_proba(X), first.predict_proba(X))
    JTTClassifier(base, T=1, lambda_up=5, memory=tmp_path, random_state=0).fit(X, y)
    assert trainings[2:] == ["stage 2"]  # another lambda_up: stage 2 only


def test_without_memory_every_fit_trains_both_stages(tmp_path, trainings):
    X, y = _data()
    for _ in range(2):
        JTTClassifier(_net(), T=1, lambda_up=4, random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"] * 2


def test_the_refit_after_a_search_is_loaded_from_the_cache(tmp_path, trainings):
    X, y = _data()
    g = 2 * y + (X[:, 1] > 0)
    jtt = JTTClassifier(_net(), T=1, memory=tmp_path, random_state=0)
    model, search = tune_on_validation(jtt, {"lambda_up": [1, 4, 16]}, X[:80], y[:80], X[80:], y[80:], g[80:])
    assert trainings.count("stage 2") == 3 and trainings.count("stage 1") == 1  # the refit trained nothing
    fresh = JTTClassifier(_net(), T=1, memory=None, random_state=0, **search.best_params_).fit(X[:80], y[:80])
    np.testing.assert_array_equal(model.predict_proba(X), fresh.predict_proba(X))


class CtrlCInStage2(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.1)


def test_an_interrupted_final_stage_caches_nothing(tmp_path):
    X, y = _data()
    clf = JTTClassifier(
        _net(),
        T=1,
        lambda_up=4,
        memory=tmp_path,
        random_state=0,
        final_params={"callbacks": [CtrlCInStage2()]},
    )
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert _stage_2_entries(tmp_path) == []


def test_a_corrupt_final_stage_entry_is_recomputed_with_a_warning(tmp_path):
    X, y = _data()
    expected = (
        JTTClassifier(_net(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y).predict_proba(X)
    )
    (entry,) = _stage_2_entries(tmp_path)
    joblib.dump("not a fitted net", entry)
    with pytest.warns(UserWarning, match="recomputed"):
        clf = JTTClassifier(_net(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        JTTClassifier(_net(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    assert not [w for w in caught if "cache" in str(w.message)]  # repaired
