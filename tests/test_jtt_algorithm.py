"""Tests that pin JTT's algorithm: which rows form the error set, and how often stage 2 sees them."""

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from jtt_sklearn import EmptyErrorSetWarning, JTTClassifier
from jtt_sklearn.exceptions import WeakIdentifierWarning

from ._nets import MLP, make_net


class ScriptedClassifier(ClassifierMixin, BaseEstimator):
    """Predicts ``wrong_rows`` wrongly and every other row right; records what fit saw.

    Column 0 of X holds the row id, so predictions are known in advance and a
    copy of a row can be traced back to it.
    """

    def __init__(self, wrong_rows=(), max_iter=100, accepts_sample_weight=True):
        self.wrong_rows = wrong_rows
        self.max_iter = max_iter
        self.accepts_sample_weight = accepts_sample_weight

    def fit(self, X, y, sample_weight=None):
        X = np.asarray(X)
        self.classes_ = np.unique(y)
        self.seen_row_ids_ = X[:, 0].astype(int)
        self.seen_sample_weight_ = sample_weight
        self.truth_ = dict(zip(self.seen_row_ids_, np.asarray(y)))
        return self

    def predict(self, X):
        ids = np.asarray(X)[:, 0].astype(int)
        truth = np.array([self.truth_[i] for i in ids])
        wrong = np.isin(ids, self.wrong_rows)
        return np.where(wrong, 1 - truth, truth)


class ScriptedNoWeights(ScriptedClassifier):
    """The same, with a fit that takes no sample_weight, so JTT must copy rows by index."""

    def fit(self, X, y):
        return super().fit(X, y)


def _row_id_data(n=40, seed=0):
    rng = np.random.RandomState(seed)
    X = np.column_stack([np.arange(n), rng.normal(size=(n, 2))])
    y = np.arange(n) % 2
    return X, y


def test_error_set_is_the_misclassified_rows_not_the_correct_ones():
    X, y = _row_id_data()
    wrong = [3, 7, 8, 21]
    clf = JTTClassifier(ScriptedClassifier(wrong_rows=wrong), T=1, lambda_up=4).fit(X, y)
    np.testing.assert_array_equal(clf.error_set_, wrong)
    assert clf.error_set_.dtype == np.int64
    # The sign bug of one reproduction: upweighting the correct rows instead.
    correct = np.setdiff1d(np.arange(len(y)), wrong)
    assert not np.isin(correct, clf.error_set_).any()


def test_sample_weight_path_counts_each_error_row_lambda_up_times():
    X, y = _row_id_data()
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
    X, y = _row_id_data()
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


def test_T_sets_only_the_identifier_training_length():
    X, y = make_classification(n_samples=150, random_state=0)
    base = LogisticRegression(max_iter=300)
    clf = JTTClassifier(base, T=2, lambda_up=3).fit(X, y)
    assert clf.epochs_param_ == "max_iter"
    assert clf.identifier_.max_iter == 2
    assert clf.final_estimator_.max_iter == 300
    assert base.max_iter == 300 and not hasattr(base, "coef_")


def test_T_none_keeps_the_base_training_length():
    X, y = make_classification(n_samples=150, random_state=0)
    clf = JTTClassifier(LogisticRegression(max_iter=50), T=None).fit(X, y)
    assert clf.identifier_.max_iter == 50


def test_empty_error_set_warns_and_final_model_is_erm():
    X, y = _row_id_data()
    with pytest.warns(EmptyErrorSetWarning, match="shorten T|Shorten T"):
        clf = JTTClassifier(ScriptedClassifier(wrong_rows=[]), T=1, lambda_up=9).fit(X, y)
    assert clf.error_set_.size == 0
    np.testing.assert_array_equal(clf.final_estimator_.seen_sample_weight_, np.ones(len(y)))


def test_error_set_covering_every_row_works():
    X, y = _row_id_data(n=20)
    clf = JTTClassifier(ScriptedClassifier(wrong_rows=list(range(20))), T=1, lambda_up=3)
    with pytest.warns(WeakIdentifierWarning, match="majority class"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.error_set_, np.arange(20))
    np.testing.assert_array_equal(clf.sample_multiplicity_, np.full(20, 3))


# --- skorch -----------------------------------------------------------------------------


class RecordingMLP(MLP):
    """Records the row ids (column 0) of every training batch."""

    def __init__(self, n_classes=2, hidden=16):
        super().__init__(n_classes=n_classes, hidden=hidden)
        self.seen = []

    def forward(self, X):
        if self.training:
            self.seen.append(X[:, 0].detach().long().numpy().copy())
        return self.body(X[:, 1:].float())


def _skorch_data(n=120, seed=0):
    X, y = make_classification(n_samples=n, n_features=6, n_informative=3, random_state=seed)
    X = np.column_stack([np.arange(n), X]).astype(np.float32)
    return X, y.astype(np.int64)


def test_skorch_error_set_matches_identifier_predictions_and_T_sets_only_max_epochs():
    X, y = _skorch_data()
    base = make_net(max_epochs=7, lr=0.01)
    clf = JTTClassifier(base, T=2, lambda_up=4, random_state=0).fit(X, y)
    expected = np.flatnonzero(clf.identifier_.predict(X) != y)
    assert expected.size > 0
    np.testing.assert_array_equal(clf.error_set_, expected)
    assert clf.identifier_.max_epochs == 2 and len(clf.identifier_.history) == 2
    assert clf.final_estimator_.max_epochs == 7 and len(clf.final_estimator_.history) == 7
    assert base.max_epochs == 7
    # Everything else is the base's configuration.
    for name in ("lr", "batch_size", "train_split", "module", "optimizer"):
        assert clf.identifier_.get_params()[name] == base.get_params()[name]


def test_skorch_final_fit_sees_each_error_row_lambda_up_times_per_epoch():
    X, y = _skorch_data()
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


def test_skorch_sampler_respects_an_internal_validation_split():
    from skorch.dataset import ValidSplit

    X, y = _skorch_data(n=100)
    net = make_net(module=RecordingMLP, max_epochs=1, lr=0.01, train_split=ValidSplit(5))
    with pytest.warns(UserWarning, match="train_split=None"):
        clf = JTTClassifier(net, T=1, lambda_up=4, random_state=0).fit(X, y)
    seen = np.concatenate(clf.final_estimator_.module_.seen)
    train_rows = np.unique(seen)
    assert train_rows.size == 80  # the 20 held-out rows are never trained on
    counts = np.bincount(seen, minlength=len(y))[train_rows]
    np.testing.assert_array_equal(counts, clf.sample_multiplicity_[train_rows])


def test_skorch_fit_does_not_touch_the_global_torch_rng():
    X, y = _skorch_data()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    JTTClassifier(make_net(max_epochs=2), T=1, random_state=0).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


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
    from skorch import NeuralNetClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=64) > 0).astype(np.int64)

    def jtt(lambda_up, **params):
        net = NeuralNetClassifier(_BatchNormNet, criterion=torch.nn.CrossEntropyLoss, batch_size=16, max_epochs=2,
                                  train_split=None, verbose=0, iterator_train__shuffle=True, **params)
        return JTTClassifier(net, T=1, lambda_up=lambda_up, random_state=0)

    n_errors = jtt(1).fit(X, y).error_set_.size
    lambda_up = next(lam for lam in range(2, 100) if (64 + (lam - 1) * n_errors) % 16 == 1)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        jtt(lambda_up).fit(X, y)
    clf = jtt(lambda_up, iterator_train__drop_last=True).fit(X, y)
    batches = clf.final_estimator_.history[-1, "batches", :, "train_batch_size"]
    assert set(batches) == {16} and sum(batches) == 64 + (lambda_up - 1) * n_errors - 1
