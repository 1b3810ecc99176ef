"""Stage 2: each error row counted lambda_up times, by sampler, sample_weight or row index.

Which strategy a base gets (``resolve_upsampling``), what the final model sees under each, and the
refusal of an upsampled epoch too large to hold in memory.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetClassifier

from jtt_sklearn import JTTClassifier

from ._fixtures import (
    ScriptedClassifier,
    ScriptedNoWeights,
    float32_classification,
    noisy_rows,
    row_id_data,
)
from ._nets import RecordingMLP, make_net, skorch_data


@pytest.fixture
def data():
    return float32_classification(120, 6)


# --- The strategies -------------------------------------------------------------------------------


def test_sample_weight_path_counts_each_error_row_lambda_up_times():
    X, y = row_id_data()
    wrong = [0, 5, 6]
    clf = JTTClassifier(ScriptedClassifier(wrong_rows=wrong), T=1, lambda_up=7).fit(X, y)
    assert clf.upsampling_ == "sample_weight"
    weights = clf.final_estimator_.seen_sample_weight_
    expected = np.ones(len(y))
    expected[wrong] = 7
    np.testing.assert_array_equal(weights, expected)
    np.testing.assert_array_equal(clf.sample_multiplicity_, expected)
    # Stage 1 is plain ERM: no weights.
    assert clf.identifier_.seen_sample_weight_ is None


def test_index_path_fits_on_each_error_row_exactly_lambda_up_times():
    X, y = row_id_data()
    wrong = [2, 9, 30]
    clf = JTTClassifier(ScriptedNoWeights(wrong_rows=wrong), T=1, lambda_up=5, random_state=0)
    clf.fit(X, y)
    assert clf.upsampling_ == "index"
    counts = np.bincount(clf.final_estimator_.seen_row_ids_, minlength=len(y))
    expected = np.ones(len(y), dtype=int)
    expected[wrong] = 5
    np.testing.assert_array_equal(counts, expected)


def test_lambda_up_one_is_erm():
    X, y = make_classification(n_samples=150, random_state=0)
    jtt = JTTClassifier(LogisticRegression(), T=1, lambda_up=1).fit(X, y)
    erm = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(jtt.final_estimator_.coef_, erm.coef_, rtol=1e-6)
    np.testing.assert_array_equal(jtt.predict(X), erm.predict(X))


def test_skorch_final_fit_sees_each_error_row_lambda_up_times_per_epoch():
    X, y = skorch_data()
    net = make_net(module=RecordingMLP, max_epochs=3, lr=0.01)
    clf = JTTClassifier(net, T=1, lambda_up=6, random_state=0).fit(X, y)
    assert clf.upsampling_ == "sampler" and clf.error_set_.size > 0
    batches = clf.final_estimator_.module_.seen
    per_epoch = np.array_split(np.concatenate(batches), 3)
    expected = np.ones(len(y), dtype=int)
    expected[clf.error_set_] = 6
    orders = []
    for seen in per_epoch:
        np.testing.assert_array_equal(np.bincount(seen, minlength=len(y)), expected)
        orders.append(seen)
    # Reshuffled every epoch, never in storage order.
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], np.sort(orders[0]))


def test_pipeline_ending_in_a_skorch_net_uses_the_sampler():
    X, y = float32_classification(160, 5)
    pipe = make_pipeline(StandardScaler(), make_net(max_epochs=4))
    clf = JTTClassifier(pipe, T=1, lambda_up=3, random_state=0).fit(X, y)
    assert clf.epochs_param_ == "neuralnetclassifier__max_epochs"
    assert clf.upsampling_ == "sampler"
    assert clf.final_estimator_[-1].iterator_train__multiplicity is not None
    assert clf.identifier_[-1].max_epochs == 1 and clf.final_estimator_[-1].max_epochs == 4


class _BatchNormNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(4, 8)
        self.norm = torch.nn.BatchNorm1d(8)
        self.out = torch.nn.Linear(8, 2)

    def forward(self, X):
        return self.out(torch.relu(self.norm(self.hidden(X))))


@pytest.mark.filterwarnings("ignore::jtt_sklearn.exceptions.WeakIdentifierWarning")
def test_one_row_last_batch_in_stage_two_and_the_documented_drop_last_fix():
    """Stage 2's epoch has n + (lambda_up - 1)|E| rows: for some lambda_up the last batch has one
    row, which BatchNorm cannot train on. docs/troubleshooting.md advises drop_last."""

    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=64) > 0).astype(np.int64)

    def jtt(lambda_up, **params):
        net = NeuralNetClassifier(
            _BatchNormNet,
            criterion=torch.nn.CrossEntropyLoss,
            batch_size=16,
            max_epochs=2,
            train_split=None,
            verbose=0,
            iterator_train__shuffle=True,
            **params,
        )
        return JTTClassifier(net, T=1, lambda_up=lambda_up, random_state=0)

    n_errors = jtt(1).fit(X, y).error_set_.size
    lambda_up = next(lam for lam in range(2, 100) if (64 + (lam - 1) * n_errors) % 16 == 1)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        jtt(lambda_up).fit(X, y)
    clf = jtt(lambda_up, iterator_train__drop_last=True).fit(X, y)
    batches = clf.final_estimator_.history[-1, "batches", :, "train_batch_size"]
    assert set(batches) == {16} and sum(batches) == 64 + (lambda_up - 1) * n_errors - 1


# --- The size of the upsampled epoch --------------------------------------------------------------


@pytest.mark.parametrize(
    "base", [make_net(max_epochs=6), SGDClassifier(random_state=0)], ids=["sampler", "index"]
)
def test_a_huge_upsampled_epoch_is_refused_with_the_row_count(data, base):
    X, y = data
    upsampling = "index" if isinstance(base, SGDClassifier) else "auto"
    clf = JTTClassifier(base, T=1, lambda_up=10**9, upsampling=upsampling, random_state=0)
    with pytest.raises(ValueError, match=r"lambda_up=1000000000.*rows") as error:
        clf.fit(X, y)
    assert "sample_weight" in str(error.value)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


def test_a_huge_lambda_up_with_sample_weight_is_fine(data):
    X, y = data
    clf = JTTClassifier(LogisticRegression(), T=1, lambda_up=10**9, random_state=0).fit(X, y)
    assert clf.sample_multiplicity_.max() == 10**9




def test_auto_fits_on_copies_where_a_weight_is_not_a_copy():
    X, y = noisy_rows(200)
    tree = DecisionTreeClassifier(min_samples_leaf=5, random_state=0)
    auto = JTTClassifier(tree, T=None, lambda_up=7, random_state=0)
    # T=None: a deep tree fits every row; use an identification model that errs, via epochs_param.
    auto = JTTClassifier(tree, T=2, lambda_up=7, epochs_param="max_depth", random_state=0).fit(X, y)
    index = JTTClassifier(
        tree, T=2, lambda_up=7, epochs_param="max_depth", upsampling="index", random_state=0
    ).fit(X, y)
    assert auto.upsampling_ == "index" and auto.error_set_.size > 0
    np.testing.assert_array_equal(auto.predict_proba(X), index.predict_proba(X))


def test_weights_requested_where_they_are_not_copies_warn():
    X, y = noisy_rows(200)
    tree = DecisionTreeClassifier(min_samples_leaf=5, random_state=0)
    with pytest.warns(UserWarning, match="min_samples_leaf.*not the same as lambda_up copies"):
        JTTClassifier(tree, T=2, epochs_param="max_depth", upsampling="sample_weight").fit(X, y)
