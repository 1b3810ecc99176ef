"""memory=: stage 1 is cached, never stale, repaired when bad, and survives a crash in stage 2."""

import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from joblib import Memory
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from torch import nn

from jtt_sklearn import JTTClassifier

from ._fixtures import float32_classification
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
    (output,) = _cache_outputs(tmp_path)
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
