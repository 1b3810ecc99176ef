"""Stage 1: the error set, T, T_grid (one run rewound for every T), and the empty/weak error-set warnings."""

import numpy as np
import pytest
from torch import nn
import torch
from joblib import Memory
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback, Checkpoint, EarlyStopping

import jtt_sklearn._identification as identification
from jtt_sklearn import EmptyErrorSetWarning, JTTClassifier
from jtt_sklearn._skorch import find_skorch_net
from jtt_sklearn.exceptions import WeakIdentifierWarning
from jtt_sklearn.recipes import LinearSchedule

from ._fixtures import ScriptedClassifier, ignore_weak_identifier, noisy_threshold_data, row_id_data
from ._nets import make_net, skorch_data

# --- The error set --------------------------------------------------------------------------------


def test_error_set_is_the_misclassified_rows_not_the_correct_ones():
    X, y = row_id_data()
    wrong = [3, 7, 8, 21]
    clf = JTTClassifier(ScriptedClassifier(wrong_rows=wrong), T=1, lambda_up=4).fit(X, y)
    np.testing.assert_array_equal(clf.error_set_, wrong)
    assert clf.error_set_.dtype == np.int64
    # The sign bug of one reproduction: upweighting the correct rows instead.
    correct = np.setdiff1d(np.arange(len(y)), wrong)
    assert not np.isin(correct, clf.error_set_).any()


def test_skorch_error_set_matches_identifier_predictions_and_T_sets_only_max_epochs():
    X, y = skorch_data()
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


# --- T --------------------------------------------------------------------------------------------


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


# --- Empty and weak error sets --------------------------------------------------------------------


def test_empty_error_set_warns_and_final_model_is_erm():
    X, y = row_id_data()
    with pytest.warns(EmptyErrorSetWarning, match="shorten T|Shorten T"):
        clf = JTTClassifier(ScriptedClassifier(wrong_rows=[]), T=1, lambda_up=9).fit(X, y)
    assert clf.error_set_.size == 0
    np.testing.assert_array_equal(clf.final_estimator_.seen_sample_weight_, np.ones(len(y)))


def test_error_set_covering_every_row_works():
    X, y = row_id_data(n=20)
    clf = JTTClassifier(ScriptedClassifier(wrong_rows=list(range(20))), T=1, lambda_up=3)
    with pytest.warns(WeakIdentifierWarning, match="majority class"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.error_set_, np.arange(20))
    np.testing.assert_array_equal(clf.sample_multiplicity_, np.full(20, 3))


def test_an_identifier_worse_than_the_majority_class_warns():
    from sklearn.svm import SVC

    from jtt_sklearn.datasets import load_colored_digits
    from jtt_sklearn.exceptions import WeakIdentifierWarning

    X, y, _ = load_colored_digits(random_state=0).train
    # For SVC, max_iter counts solver iterations: one is no identification model at all.
    with pytest.warns(WeakIdentifierWarning, match="T=None") as record:
        JTTClassifier(SVC(), T=1).fit(X, y)
    assert "libsvm's max_iter counts solver iterations" in str(record[0].message)


def test_the_weak_identifier_warning_names_no_solver_iterations_for_a_net():
    """For a net T counts epochs: the libsvm remark would send the user the wrong way."""
    from skorch import NeuralNetClassifier

    from jtt_sklearn._identification import _warn_if_uninformative

    y = np.arange(20) % 2
    with pytest.warns(WeakIdentifierWarning, match="max_epochs=1 probably stops far too early: raise T"):
        _warn_if_uninformative(np.arange(20), y, NeuralNetClassifier(nn.Linear), 1, "max_epochs")


# --- T_grid: one run of max(T_grid) epochs serves every T in it -----------------------------------


@pytest.fixture
def data():
    return noisy_threshold_data()


def _t_grid_net(**params):
    return make_net(**{"lr": 0.05, "max_epochs": 3, "iterator_train__shuffle": True, **params})


@pytest.fixture
def count_runs(monkeypatch):
    """Count identification trainings (stage 1 runs, with or without T_grid)."""
    runs = []
    original = identification.stage_training

    def counted(estimator, *args, **kwargs):
        runs.append(estimator.get_params()[find_skorch_net(estimator)[1] + "max_epochs"])
        return original(estimator, *args, **kwargs)

    monkeypatch.setattr(identification, "stage_training", counted)  # entered by every stage-1 run
    return runs


@pytest.mark.parametrize("pipeline", [False, True], ids=["net", "pipeline"])
def test_one_run_serves_every_T_exactly_as_separate_runs(data, tmp_path, count_runs, pipeline):
    X, y = data

    def base():
        return make_pipeline(StandardScaler(), _t_grid_net()) if pipeline else _t_grid_net()

    for T in (1, 2, 4):
        shared = JTTClassifier(
            base(), T=T, lambda_up=5, T_grid=[4, 1, 2], memory=tmp_path, random_state=0
        ).fit(X, y)
        alone = JTTClassifier(base(), T=T, lambda_up=5, random_state=0).fit(X, y)
        np.testing.assert_array_equal(shared.error_set_, alone.error_set_)
        # identifier_ is the net after epoch T, with T epochs of history
        np.testing.assert_array_equal(shared.identifier_.predict_proba(X), alone.identifier_.predict_proba(X))
        net = shared.identifier_[-1] if pipeline else shared.identifier_
        assert len(net.history) == T and net.max_epochs == T
        assert (
            net.history[-1].keys()
            == (alone.identifier_[-1] if pipeline else alone.identifier_).history[-1].keys()
        )
        assert "jtt_error_sets" not in dict(net.callbacks_) and clone(shared.identifier_) is not None
        np.testing.assert_array_equal(shared.predict_proba(X), alone.predict_proba(X))
    # one 4-epoch run for the three fits that shared it, then one run per separate fit
    assert count_runs == [4, 1, 2, 4]


def test_grid_search_with_T_grid_matches_the_naive_search(data, tmp_path, count_runs):
    X, y = data
    grid = {"T": [1, 3], "lambda_up": [1, 10]}
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    naive = GridSearchCV(JTTClassifier(_t_grid_net(), random_state=0), grid, cv=cv).fit(X, y)
    naive_runs = len(count_runs)
    count_runs.clear()
    shared = GridSearchCV(
        JTTClassifier(_t_grid_net(), T_grid=[1, 3], memory=Memory(tmp_path, verbose=0), random_state=0),
        grid,
        cv=cv,
    ).fit(X, y)
    assert naive_runs == 4 * 2 + 1
    assert len(count_runs) == 2 + 1  # one per fold, plus the refit
    assert naive.best_params_ == shared.best_params_
    np.testing.assert_array_equal(naive.cv_results_["mean_test_score"], shared.cv_results_["mean_test_score"])


def test_T_grid_without_memory_warns_that_nothing_is_shared(data):
    X, y = data
    with pytest.warns(UserWarning, match="T_grid without memory"):
        JTTClassifier(_t_grid_net(), T=1, T_grid=[1, 2], random_state=0).fit(X, y)


def test_T_grid_accepts_any_collection_of_epochs(data, tmp_path):
    X, y = data
    for T_grid in ({2, 1}, (2, 1, 2), np.array([1, 2]), range(1, 3)):
        clf = JTTClassifier(_t_grid_net(), T=2, T_grid=T_grid, memory=tmp_path, random_state=0).fit(X, y)
        assert len(clf.identifier_.history) == 2


class NoisyDataset(torch.utils.data.Dataset):
    """Adds fresh torch noise to every row it serves, like a random augmentation."""

    def __init__(self, X, y):
        self.X, self.y = torch.as_tensor(X), torch.as_tensor(y)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.X[i] + 0.5 * torch.randn(self.X.shape[1]), self.y[i]


@ignore_weak_identifier
def test_random_transforms_draw_what_a_separate_run_would_draw(data, tmp_path):
    """The recorder predicts on copies of the RNG states it finds, so a dataset with random
    transforms sees the same draws as the prediction pass after a separate T-epoch run."""
    X, y = data
    dataset = NoisyDataset(X, y)
    for T in (1, 2):
        shared = JTTClassifier(_t_grid_net(), T=T, T_grid=[1, 2, 3], memory=tmp_path, random_state=0).fit(
            dataset, y
        )
        alone = JTTClassifier(_t_grid_net(), T=T, random_state=0).fit(dataset, y)
        np.testing.assert_array_equal(shared.error_set_, alone.error_set_)
        assert shared.identifier_.callbacks is None and type(shared.error_set_) is np.ndarray


class StopAfterFirstEpoch(Callback):
    """Stops training at the end of epoch 2, before later callbacks run (as EarlyStopping does)."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise KeyboardInterrupt


class NegateWeightsAtEnd(Callback):
    """Changes the weights after the last epoch, as loading a checkpoint would."""

    def on_train_end(self, net, **kwargs):
        with torch.no_grad():
            for param in net.module_.parameters():
                param.neg_()


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(T=3, T_grid=[1, 2]), "T=3 is not in T_grid"),
        (dict(T=None, T_grid=[1, 2]), "T=None trains stage 1 as the base net is configured"),
        (dict(T=1, T_grid=[]), "flat, non-empty list of ints >= 1"),
        (dict(T=1, T_grid=[1, 0]), "flat, non-empty list of ints >= 1"),
        (dict(T=1, T_grid=[1, 2.5]), "flat, non-empty list of ints >= 1"),
        (dict(T=1, T_grid=[[1, 2], [3, 4]]), "flat, non-empty list of ints >= 1"),
        (dict(T=1, T_grid=[1, 2], epochs_param="lr"), "use epochs_param='auto'"),
        (
            dict(T=1, T_grid=[1, 2], identifier_params={"callbacks": [LinearSchedule()]}),
            "depend on max_epochs",
        ),
        (dict(T=1, T_grid=[1, 2], identifier_params={"callbacks": "disable"}), "callbacks='disable'"),
        (
            dict(T=1, T_grid=[1, 3], identifier_params={"callbacks": [EarlyStopping(monitor="train_loss")]}),
            "stop training early",
        ),
        (
            dict(
                T=1,
                T_grid=[1, 3],
                identifier_params={"callbacks": [("best", Checkpoint(load_best=True, dirname="x"))]},
            ),
            r"\['best'\] reload the best epoch",
        ),
        (
            dict(T=1, T_grid=[1, 3], identifier_params={"callbacks": [StopAfterFirstEpoch()]}),
            r"stopped at epoch 2 without recording epoch\(s\) \[3\]",
        ),
        (
            dict(T=1, T_grid=[1, 2], identifier_params={"callbacks": [NegateWeightsAtEnd()]}),
            "weights changed after",
        ),
    ],
    ids=[
        "T-not-in-grid",
        "T-None",
        "empty-grid",
        "zero-in-grid",
        "float-in-grid",
        "nested-grid",
        "epochs-param-lr",
        "schedule-callback",
        "callbacks-disable",
        "early-stopping",
        "load-best",
        "stops-early",
        "changes-weights",
    ],
)
def test_T_grid_refuses_runs_that_do_not_stand_for_shorter_ones(data, tmp_path, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        JTTClassifier(_t_grid_net(), memory=tmp_path, random_state=0, **params).fit(X, y)


def test_T_grid_needs_a_skorch_net(data, tmp_path):
    X, y = data
    clf = JTTClassifier(LogisticRegression(), T=1, T_grid=[1, 2], memory=tmp_path)
    with pytest.raises(ValueError, match="T_grid needs a skorch net"):
        clf.fit(X, y)


def test_error_set_is_a_plain_array_from_a_memory_mapped_cache(data, tmp_path):
    X, y = data
    for _ in range(2):  # the second fit loads from the cache
        clf = JTTClassifier(
            _t_grid_net(),
            T=1,
            T_grid=[1, 2],
            memory=Memory(tmp_path, mmap_mode="r", verbose=0),
            random_state=0,
        ).fit(X, y)
        assert type(clf.error_set_) is np.ndarray
