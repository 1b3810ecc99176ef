"""JTTClassifier(T_grid=...): one identification run of max(T_grid) epochs serves every T in it."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from joblib import Memory
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, Checkpoint, EarlyStopping

import jtt_sklearn._identification as identification
from jtt_sklearn import JTTClassifier
from jtt_sklearn.callbacks import ErrorSetRecorder
from jtt_sklearn.recipes import LinearSchedule
from jtt_sklearn._skorch import find_skorch_net

from ._nets import MLP


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 6)).astype(np.float32)
    y = ((X[:, 0] + 0.8 * rng.normal(size=150)) > 0).astype(np.int64)
    return X, y


def make_net(**params):
    defaults = dict(criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.SGD, lr=0.05, batch_size=32,
                    max_epochs=3, train_split=None, verbose=0, iterator_train__shuffle=True)
    return NeuralNetClassifier(MLP, **{**defaults, **params})


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
        return make_pipeline(StandardScaler(), make_net()) if pipeline else make_net()

    for T in (1, 2, 4):
        shared = JTTClassifier(base(), T=T, lambda_up=5, T_grid=[4, 1, 2], memory=tmp_path, random_state=0).fit(X, y)
        alone = JTTClassifier(base(), T=T, lambda_up=5, random_state=0).fit(X, y)
        np.testing.assert_array_equal(shared.error_set_, alone.error_set_)
        # identifier_ is the net after epoch T, with T epochs of history
        np.testing.assert_array_equal(shared.identifier_.predict_proba(X), alone.identifier_.predict_proba(X))
        net = shared.identifier_[-1] if pipeline else shared.identifier_
        assert len(net.history) == T and net.max_epochs == T
        assert net.history[-1].keys() == (alone.identifier_[-1] if pipeline else alone.identifier_).history[-1].keys()
        assert "jtt_error_sets" not in dict(net.callbacks_) and clone(shared.identifier_) is not None
        np.testing.assert_array_equal(shared.predict_proba(X), alone.predict_proba(X))
    # one 4-epoch run for the three fits that shared it, then one run per separate fit
    assert count_runs == [4, 1, 2, 4]


def test_grid_search_with_T_grid_matches_the_naive_search(data, tmp_path, count_runs):
    X, y = data
    grid = {"T": [1, 3], "lambda_up": [1, 10]}
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    naive = GridSearchCV(JTTClassifier(make_net(), random_state=0), grid, cv=cv).fit(X, y)
    naive_runs = len(count_runs)
    count_runs.clear()
    shared = GridSearchCV(
        JTTClassifier(make_net(), T_grid=[1, 3], memory=Memory(tmp_path, verbose=0), random_state=0), grid, cv=cv
    ).fit(X, y)
    assert naive_runs == 4 * 2 + 1
    assert len(count_runs) == 2 + 1  # one per fold, plus the refit
    assert naive.best_params_ == shared.best_params_
    np.testing.assert_array_equal(naive.cv_results_["mean_test_score"], shared.cv_results_["mean_test_score"])


def test_T_grid_without_memory_warns_that_nothing_is_shared(data):
    X, y = data
    with pytest.warns(UserWarning, match="T_grid without memory"):
        JTTClassifier(make_net(), T=1, T_grid=[1, 2], random_state=0).fit(X, y)


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
        (dict(T=1, T_grid=[1, 2], identifier_params={"callbacks": [LinearSchedule()]}), "depend on max_epochs"),
        (dict(T=1, T_grid=[1, 2], identifier_params={"callbacks": "disable"}), "callbacks='disable'"),
        (dict(T=1, T_grid=[1, 3], identifier_params={"callbacks": [EarlyStopping(monitor="train_loss")]}),
         "stop training early"),
        (dict(T=1, T_grid=[1, 3], identifier_params={"callbacks": [("best", Checkpoint(load_best=True, dirname="x"))]}),
         r"\['best'\] reload the best epoch"),
        (dict(T=1, T_grid=[1, 3], identifier_params={"callbacks": [StopAfterFirstEpoch()]}),
         r"stopped at epoch 2 without recording epoch\(s\) \[3\]"),
        (dict(T=1, T_grid=[1, 2], identifier_params={"callbacks": [NegateWeightsAtEnd()]}), "weights changed after"),
    ],
)
def test_T_grid_refuses_runs_that_do_not_stand_for_shorter_ones(data, tmp_path, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        JTTClassifier(make_net(), memory=tmp_path, random_state=0, **params).fit(X, y)


def test_T_grid_needs_a_skorch_net(data, tmp_path):
    X, y = data
    clf = JTTClassifier(LogisticRegression(), T=1, T_grid=[1, 2], memory=tmp_path)
    with pytest.raises(ValueError, match="T_grid needs a skorch net"):
        clf.fit(X, y)


def test_recorder_without_data_uses_the_fit_data_and_never_keeps_it(data):
    X, y = data
    recorder = ErrorSetRecorder(epochs=[1, 3], keep_weights=True)
    net = make_net(callbacks=[("rec", recorder)]).fit(X, y)
    assert sorted(recorder.error_sets_) == [1, 3]
    np.testing.assert_array_equal(recorder.error_sets_[3], np.flatnonzero(net.predict(X) != y))
    assert sorted(recorder.weights_) == [1, 3]
    assert recorder.weights_[3]["module"].keys() == net.module_.state_dict().keys()
    assert recorder.fit_data_ is None
    assert clone(net).get_params()["callbacks"][0][1].get_params() == recorder.get_params()
    assert X.nbytes > 0 and pickle.dumps(recorder).find(X.tobytes()[:64]) == -1
    with pytest.raises(ValueError, match="both X and y"):
        make_net(callbacks=[ErrorSetRecorder(X=X)]).fit(X, y)


def test_recorder_without_data_needs_y_at_fit(data):
    X, y = data
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="fit got y=None"):
            make_net(callbacks=[ErrorSetRecorder()]).fit(dataset, None)


def test_T_grid_accepts_any_collection_of_epochs(data, tmp_path):
    X, y = data
    for T_grid in ({2, 1}, (2, 1, 2), np.array([1, 2]), range(1, 3)):
        clf = JTTClassifier(make_net(), T=2, T_grid=T_grid, memory=tmp_path, random_state=0).fit(X, y)
        assert len(clf.identifier_.history) == 2



class NoisyDataset(torch.utils.data.Dataset):
    """Adds fresh torch noise to every row it serves, like a random augmentation."""

    def __init__(self, X, y):
        self.X, self.y = torch.as_tensor(X), torch.as_tensor(y)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.X[i] + 0.5 * torch.randn(self.X.shape[1]), self.y[i]


def test_random_transforms_draw_what_a_separate_run_would_draw(data, tmp_path):
    """The recorder predicts on copies of the RNG states it finds, so a dataset with random
    transforms sees the same draws as the prediction pass after a separate T-epoch run."""
    X, y = data
    dataset = NoisyDataset(X, y)
    for T in (1, 2):
        shared = JTTClassifier(make_net(), T=T, T_grid=[1, 2, 3], memory=tmp_path, random_state=0).fit(dataset, y)
        alone = JTTClassifier(make_net(), T=T, random_state=0).fit(dataset, y)
        np.testing.assert_array_equal(shared.error_set_, alone.error_set_)
        assert shared.identifier_.callbacks is None and type(shared.error_set_) is np.ndarray


def test_error_set_is_a_plain_array_from_a_memory_mapped_cache(data, tmp_path):
    X, y = data
    for _ in range(2):  # the second fit loads from the cache
        clf = JTTClassifier(make_net(), T=1, T_grid=[1, 2], memory=Memory(tmp_path, mmap_mode="r", verbose=0),
                            random_state=0).fit(X, y)
        assert type(clf.error_set_) is np.ndarray
