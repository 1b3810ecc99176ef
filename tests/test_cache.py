"""memory=: stage 1 is cached, never stale, repaired when bad, and survives a crash in stage 2."""

import importlib
import signal
import sys
import textwrap
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from joblib import Memory
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from jtt_sklearn import JTTClassifier
from jtt_sklearn.model_selection import tune_on_validation

from ._fixtures import float32_classification, ignore_weak_identifier, linear_skorch_net
from ._nets import make_net

STAGE1_FITS = []


class CountingLogisticRegression(LogisticRegression):
    """Logs every fit without sample weights (stage 1) and can fail in stage 2 on demand."""

    fail_when_weighted = False

    def fit(self, X, y, sample_weight=None):
        if sample_weight is None:
            STAGE1_FITS.append(self.max_iter)
        elif type(self).fail_when_weighted:
            raise RuntimeError("simulated crash in stage 2")
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture(autouse=True)
def reset_counter():
    STAGE1_FITS.clear()
    CountingLogisticRegression.fail_when_weighted = False


@pytest.fixture
def data():
    return make_classification(n_samples=120, random_state=0)


# --- What is cached, and when it is used ----------------------------------------------------------


def _search(memory):
    clf = JTTClassifier(CountingLogisticRegression(), T=1, memory=memory, random_state=0)
    return GridSearchCV(clf, {"lambda_up": [1, 5, 20, 50]}, cv=3)


def test_grid_over_lambda_up_fits_stage_one_once_per_fold(data, tmp_path):
    X, y = data
    naive = _search(memory=None).fit(X, y)
    naive_fits = len(STAGE1_FITS)
    assert naive_fits == 4 * 3 + 1
    STAGE1_FITS.clear()
    cached = _search(memory=Memory(tmp_path, verbose=0)).fit(X, y)
    assert len(STAGE1_FITS) == 3 + 1  # one per fold, plus the refit on all rows
    assert naive.best_params_ == cached.best_params_
    np.testing.assert_allclose(naive.cv_results_["mean_test_score"], cached.cv_results_["mean_test_score"])


def test_memory_accepts_a_path_and_never_returns_stale_results(data, tmp_path):
    X, y = data
    first = JTTClassifier(CountingLogisticRegression(), T=2, memory=str(tmp_path), random_state=0).fit(X, y)
    again = JTTClassifier(CountingLogisticRegression(), T=2, memory=str(tmp_path), random_state=0).fit(X, y)
    assert len(STAGE1_FITS) == 1
    np.testing.assert_array_equal(first.error_set_, again.error_set_)
    # A changed stage-1 parameter, T, seed or data is a new entry.
    JTTClassifier(CountingLogisticRegression(C=0.01), T=2, memory=str(tmp_path), random_state=0).fit(X, y)
    JTTClassifier(CountingLogisticRegression(), T=3, memory=str(tmp_path), random_state=0).fit(X, y)
    JTTClassifier(CountingLogisticRegression(), T=2, memory=str(tmp_path), random_state=1).fit(X, y)
    flipped = y.copy()
    flipped[:10] = 1 - flipped[:10]
    changed = JTTClassifier(CountingLogisticRegression(), T=2, memory=str(tmp_path), random_state=0)
    changed.fit(X, flipped)
    assert len(STAGE1_FITS) == 5
    expected = np.flatnonzero(changed.identifier_.predict(X) != flipped)
    np.testing.assert_array_equal(changed.error_set_, expected)


def test_stage_one_survives_a_crash_in_stage_two(data, tmp_path):
    X, y = data
    clf = JTTClassifier(
        CountingLogisticRegression(), T=1, lambda_up=5, memory=Memory(tmp_path, verbose=0), random_state=0
    )
    CountingLogisticRegression.fail_when_weighted = True
    with pytest.raises(RuntimeError, match="stage 2"):
        clf.fit(X, y)
    assert len(STAGE1_FITS) == 1
    CountingLogisticRegression.fail_when_weighted = False
    clf.fit(X, y)
    assert len(STAGE1_FITS) == 1  # stage 1 came from the cache
    assert clf.error_set_.size > 0


def test_verbose_does_not_change_the_cache_key(tmp_path):
    X, y = float32_classification(100, 5)
    JTTClassifier(make_net(), T=1, memory=tmp_path, random_state=0).fit(X, y)
    entries = sorted(p.parent.name for p in tmp_path.rglob("output.pkl"))
    JTTClassifier(make_net(), T=1, memory=tmp_path, verbose=2, random_state=0).fit(X, y)
    assert sorted(p.parent.name for p in tmp_path.rglob("output.pkl")) == entries


# --- What is written, and what is refused ---------------------------------------------------------


def test_cache_metadata_does_not_store_a_copy_of_text_data(tmp_path):
    """joblib writes each argument's repr into the cache; a list of texts must not be written out."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    rng = np.random.RandomState(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"])
    texts = [" ".join(rng.choice(words, size=30)) for _ in range(300)]
    y = np.array([int("alpha" in t.split()[:5]) for t in texts])
    JTTClassifier(
        make_pipeline(TfidfVectorizer(), LogisticRegression()), T=2, memory=tmp_path, random_state=0
    ).fit(texts, y)
    metadata = list(tmp_path.rglob("metadata.json"))
    assert metadata
    data_size = sum(len(t) for t in texts)
    assert all(path.stat().st_size < data_size / 10 for path in metadata)


def _cache_outputs(directory):
    return sorted(Path(directory).rglob("output.pkl"))


def test_a_corrupt_cache_entry_is_recomputed_with_a_warning(tmp_path):
    X, y = float32_classification(120, 6)
    clf = JTTClassifier(LogisticRegression(), T=2, memory=tmp_path, random_state=0)
    expected = clf.fit(X, y).error_set_
    (output,) = [path for path in _cache_outputs(tmp_path) if "_train_and_find_errors" in str(path)]
    joblib.dump("not a stage-1 result", output)
    with pytest.warns(UserWarning, match="cache"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.error_set_, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.fit(X, y)  # repaired: no warning the second time


def test_memory_with_a_module_that_cannot_be_pickled_says_what_to_do(tmp_path):
    class LocalModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(6, 2)

        def forward(self, X):
            return self.linear(X)

    X, y = float32_classification(120, 6)
    clf = JTTClassifier(make_net(module=LocalModule), T=1, memory=tmp_path)
    with pytest.raises(ValueError, match="module level.*memory") as error:
        clf.fit(X, y)
    assert len(str(error.value)) < 1000, "no dump of the data in the message"


@ignore_weak_identifier
def test_editing_the_module_class_misses_the_stage_1_cache(tmp_path, monkeypatch):
    source = tmp_path / "user_module_jtt.py"

    def write(width):
        source.write_text(
            textwrap.dedent(f"""
            import torch
            class Net(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.hidden = torch.nn.Linear(4, {width})
                    self.out = torch.nn.Linear({width}, 2)
                def forward(self, X):
                    return self.out(torch.relu(self.hidden(X)))
        """)
        )

    monkeypatch.syspath_prepend(str(tmp_path))
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    widths = []
    for width in (8, 32):
        write(width)
        sys.modules.pop("user_module_jtt", None)
        module = importlib.import_module("user_module_jtt")
        net = NeuralNetClassifier(
            module.Net, criterion=torch.nn.CrossEntropyLoss, max_epochs=2, train_split=None, verbose=0
        )
        clf = JTTClassifier(net, T=1, lambda_up=2, memory=tmp_path / "cache", random_state=0).fit(X, y)
        widths.append(clf.identifier_.module_.hidden.out_features)
    assert widths == [8, 32]




def _cache_rows():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = ((X[:, 0] + 0.6 * rng.normal(size=120)) > 0).astype(np.int64)
    return X, y


def _cache_net(**params):
    return linear_skorch_net(lr=0.1, max_epochs=4, **params)


def _stage_2_entries(directory):
    return [p for p in Path(directory).rglob("output.pkl") if "fit_upsampled" in str(p)]


@pytest.mark.parametrize("base", [_cache_net(), LogisticRegression()], ids=["skorch", "sklearn"])
@ignore_weak_identifier
def test_a_second_identical_fit_trains_nothing_and_predicts_the_same(base, tmp_path, trainings):
    X, y = _cache_rows()
    first = JTTClassifier(base, T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"]
    second = JTTClassifier(base, T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"]  # both stages came from the cache
    np.testing.assert_array_equal(second.predict_proba(X), first.predict_proba(X))
    JTTClassifier(base, T=1, lambda_up=5, memory=tmp_path, random_state=0).fit(X, y)
    assert trainings[2:] == ["stage 2"]  # another lambda_up: stage 2 only


def test_a_fit_hashes_its_training_data_once_for_both_stages(tmp_path, monkeypatch):
    # Hashing the data is most of a fit that both caches serve: once, not once per stage.
    X, y = _cache_rows()
    hashed = []
    save = joblib.hashing.NumpyHasher.save

    def counting_save(self, obj):
        hashed.append(obj is X)
        return save(self, obj)

    monkeypatch.setattr(joblib.hashing.NumpyHasher, "save", counting_save)
    for _ in range(2):  # trained, then served by both caches
        hashed.clear()
        JTTClassifier(LogisticRegression(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
        assert sum(hashed) == 1


def test_the_same_data_changed_in_place_misses_both_caches(tmp_path, trainings):
    X, y = _cache_rows()
    first = JTTClassifier(LogisticRegression(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    X[:, 0] *= -1  # the same array object, other values: the digest is taken per fit
    second = JTTClassifier(LogisticRegression(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"] * 2
    assert not np.array_equal(first.final_estimator_.coef_, second.final_estimator_.coef_)


@ignore_weak_identifier
def test_without_memory_every_fit_trains_both_stages(tmp_path, trainings):
    X, y = _cache_rows()
    for _ in range(2):
        JTTClassifier(_cache_net(), T=1, lambda_up=4, random_state=0).fit(X, y)
    assert trainings == ["stage 1", "stage 2"] * 2


@ignore_weak_identifier
def test_the_refit_after_a_search_is_loaded_from_the_cache(tmp_path, trainings):
    X, y = _cache_rows()
    g = 2 * y + (X[:, 1] > 0)
    jtt = JTTClassifier(_cache_net(), T=1, memory=tmp_path, random_state=0)
    model, search = tune_on_validation(jtt, {"lambda_up": [1, 4, 16]}, X[:80], y[:80], X[80:], y[80:], g[80:])
    assert trainings.count("stage 2") == 3 and trainings.count("stage 1") == 1  # the refit trained nothing
    fresh = JTTClassifier(_cache_net(), T=1, memory=None, random_state=0, **search.best_params_).fit(
        X[:80], y[:80]
    )
    np.testing.assert_array_equal(model.predict_proba(X), fresh.predict_proba(X))


class CtrlCInStage2(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.1)


@ignore_weak_identifier
def test_an_interrupted_final_stage_caches_nothing(tmp_path):
    X, y = _cache_rows()
    clf = JTTClassifier(
        _cache_net(),
        T=1,
        lambda_up=4,
        memory=tmp_path,
        random_state=0,
        final_params={"callbacks": [CtrlCInStage2()]},
    )
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert _stage_2_entries(tmp_path) == []


@ignore_weak_identifier
def test_a_corrupt_final_stage_entry_is_recomputed_with_a_warning(tmp_path):
    X, y = _cache_rows()
    expected = (
        JTTClassifier(_cache_net(), T=1, lambda_up=4, memory=tmp_path, random_state=0)
        .fit(X, y)
        .predict_proba(X)
    )
    (entry,) = _stage_2_entries(tmp_path)
    joblib.dump("not a fitted net", entry)
    with pytest.warns(UserWarning, match="recomputed"):
        clf = JTTClassifier(_cache_net(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        JTTClassifier(_cache_net(), T=1, lambda_up=4, memory=tmp_path, random_state=0).fit(X, y)
    assert not [w for w in caught if "cache" in str(w.message)]  # repaired
