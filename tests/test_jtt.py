"""JTTClassifier as a whole: parameters, inputs, routing, failed fits, persistence, pipelines, verbose."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback
from torch import nn
from torch.utils.data import TensorDataset

from jtt_sklearn import JTTClassifier

from ._fixtures import (
    float32_classification,
    ignore_convergence,
    ignore_weak_identifier,
    linear_skorch_net,
    noisy_rows,
)
from ._nets import make_net


@pytest.fixture
def data():
    return float32_classification(160, 5)


# --- Parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"lambda_up": 0}, "lambda_up"),
        ({"lambda_up": 2.5}, "lambda_up"),
        ({"T": 0}, "'T' parameter"),
        ({"upsampling": "copy"}, "upsampling"),
    ],
)
def test_bad_parameters_raise_clear_errors(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        JTTClassifier(LogisticRegression(), **params).fit(X, y)


def test_base_that_is_not_a_classifier_is_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="must be a classifier"):
        JTTClassifier(LinearRegression(), T=None).fit(X, y)


@pytest.mark.parametrize("param", ["T", "lambda_up"])
def test_bool_T_and_lambda_up_are_rejected(param):
    X, y = float32_classification(120, 6)
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter.*bool"):
        JTTClassifier(LogisticRegression(), **{param: True}).fit(X, y)


def test_stage_specific_params_reach_only_their_stage(data):
    X, y = data
    clf = JTTClassifier(
        LogisticRegression(),
        T=2,
        identifier_params={"C": 0.01},
        final_params={"C": 10.0, "max_iter": 500},
    ).fit(X, y)
    assert clf.identifier_.C == 0.01 and clf.identifier_.max_iter == 2
    assert clf.final_estimator_.C == 10.0 and clf.final_estimator_.max_iter == 500
    with pytest.raises(ValueError, match="use T"):
        JTTClassifier(LogisticRegression(), T=2, identifier_params={"max_iter": 5}).fit(X, y)


def test_worst_group_checkpoint_on_the_final_net_only(data, tmp_path):
    from skorch.callbacks import Checkpoint

    from jtt_sklearn.callbacks import WorstGroupScoring

    X, y = data
    groups = 2 * y + (X[:, 0] > 0)
    scoring = WorstGroupScoring(X, y, groups, classes=np.unique(y))
    checkpoint = Checkpoint(monitor="valid_worst_group_best", dirname=str(tmp_path))
    clf = JTTClassifier(
        make_net(max_epochs=6),
        T=1,
        final_params={"callbacks": [scoring, checkpoint]},
        random_state=0,
    ).fit(X, y)
    assert "valid_worst_group" not in clf.identifier_.history[-1]
    history = clf.final_estimator_.history
    assert len(history[:, "valid_worst_group"]) == 6
    clf.final_estimator_.load_params(checkpoint=checkpoint)
    from jtt_sklearn.metrics import worst_group_accuracy

    best = max(history[:, "valid_worst_group"])
    assert worst_group_accuracy(y, clf.predict(X), group_labels=groups) == pytest.approx(best)


# --- Inputs ---------------------------------------------------------------------------------------


def test_length_mismatch(data):
    X, y = data
    with pytest.raises(ValueError, match="different numbers of rows"):
        JTTClassifier().fit(X, y[:-3])


def test_single_class(data):
    X, _ = data
    with pytest.raises(ValueError, match="only one class"):
        JTTClassifier().fit(X, np.zeros(len(X)))


def test_nan_rejected_for_a_skorch_base_but_passed_to_a_base_that_takes_it(data):
    X, y = data
    X = X.copy()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN.*impute"):
        JTTClassifier(make_net(max_epochs=1)).fit(X, y)
    clf = JTTClassifier(HistGradientBoostingClassifier(max_iter=10), T=2).fit(X, y)
    assert clf.predict(X).shape == (len(y),)


def test_y_none_is_rejected_for_arrays(data):
    X, _ = data
    with pytest.raises(ValueError, match="requires y"):
        JTTClassifier().fit(X, None)


def test_tensors_are_checked_on_their_device_without_a_copy_through_numpy():
    X, y = float32_classification(150, 6)
    X_tensor = torch.from_numpy(X).requires_grad_(True)  # np.asarray of it raises
    with pytest.raises(RuntimeError):
        np.asarray(X_tensor)
    clf = JTTClassifier(
        make_net(max_epochs=4, batch_size=16, iterator_train__shuffle=True), T=1, random_state=0
    ).fit(X_tensor.detach().requires_grad_(True), y)
    assert clf.predict(X_tensor).shape == y.shape
    bad = X_tensor.detach().clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinity"):
        JTTClassifier(make_net(max_epochs=4, batch_size=16, iterator_train__shuffle=True), T=1).fit(bad, y)


def test_dataframe_into_a_pipeline_that_selects_columns_by_name():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {"age": rng.normal(size=200), "city": rng.choice(["a", "b", "c"], 200), "noise": rng.normal(size=200)}
    )
    y = (frame["age"] + (frame["city"] == "a") > 0.5).astype(int)
    pipe = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), ["age"]), ("cat", OneHotEncoder(), ["city"])]),
        LogisticRegression(),
    )
    clf = JTTClassifier(pipe, T=2, lambda_up=4).fit(frame, y)
    assert clf.epochs_param_ == "logisticregression__max_iter"
    # Every step (the scaler too) sees each error row lambda_up times, routing on or off: copied rows.
    assert clf.upsampling_ == "index"
    rows = np.repeat(np.arange(len(y)), clf.sample_multiplicity_)
    expected = clone(pipe).fit(frame.iloc[rows], y.iloc[rows])
    np.testing.assert_allclose(clf.final_estimator_[-1].coef_, expected[-1].coef_, rtol=1e-5)
    np.testing.assert_allclose(clf.final_estimator_[0].transformers_[0][1].mean_, expected[0].transformers_[0][1].mean_)
    assert clf.identifier_[-1].max_iter == 2
    np.testing.assert_array_equal(clf.feature_names_in_, ["age", "city", "noise"])
    assert clf.score(frame, y) > 0.8
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame[["noise", "age", "city"]])


class DictModule(nn.Module):
    """Takes tokenised-text-like input: a dict with two arrays."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.EmbeddingBag(20, 8)
        self.head = nn.Linear(9, 2)

    def forward(self, input_ids, length):
        return self.head(torch.cat([self.embedding(input_ids), length.float().unsqueeze(1)], 1))


def test_skorch_dict_input():
    rng = np.random.RandomState(0)
    ids = rng.randint(0, 20, size=(90, 6))
    y = (ids[:, 0] > 9).astype(np.int64)
    X = {"input_ids": ids, "length": np.full(90, 6)}
    clf = JTTClassifier(make_net(module=DictModule, max_epochs=3), T=1, random_state=0).fit(X, y)
    assert clf.upsampling_ == "sampler"
    assert clf.predict(X).shape == (90,)
    with pytest.raises(ValueError, match="different numbers of rows"):
        JTTClassifier(make_net(module=DictModule)).fit({"input_ids": ids, "length": np.ones(5)}, y)


class LabelledDataset(TensorDataset):
    """A torch Dataset that exposes its labels like torchvision datasets do."""

    @property
    def targets(self):
        return self.tensors[1].numpy()


def test_skorch_torch_dataset_input(data):
    X, y = data
    dataset = LabelledDataset(torch.from_numpy(X), torch.from_numpy(y))
    clf = JTTClassifier(make_net(max_epochs=3), T=1, random_state=0).fit(dataset)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    np.testing.assert_array_equal(clf.error_set_, np.flatnonzero(clf.identifier_.predict(dataset) != y))
    # Without a `targets` attribute the labels are read item by item.
    plain = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    clf2 = JTTClassifier(make_net(max_epochs=3), T=1, random_state=0).fit(plain)
    np.testing.assert_array_equal(clf2.error_set_, clf.error_set_)
    bad = LabelledDataset(torch.from_numpy(X), torch.from_numpy(y * 3))
    with pytest.raises(ValueError, match="0..n_classes-1"):
        JTTClassifier(make_net()).fit(bad)


# --- Routing --------------------------------------------------------------------------------------


def test_fit_params_without_routing_raise(data):
    X, y = data
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        JTTClassifier().fit(X, y, sample_weight=np.ones(len(y)))


@ignore_convergence
def test_sample_weight_routed_to_both_stages(data):
    X, y = data
    weights = np.linspace(0.5, 2.0, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        base = LogisticRegression().set_fit_request(sample_weight=True)
        clf = JTTClassifier(base, T=1, lambda_up=4).fit(X, y, sample_weight=weights)
        expected_final = LogisticRegression().fit(X, y, sample_weight=weights * clf.sample_multiplicity_)
        expected_id = LogisticRegression(max_iter=1).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(clf.final_estimator_.coef_, expected_final.coef_, rtol=1e-6)
    np.testing.assert_allclose(clf.identifier_.coef_, expected_id.coef_, rtol=1e-6)


def test_unrequested_fit_param_raises_with_routing_on(data):
    X, y = data
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(Exception, match="set_fit_request"):
            JTTClassifier(LogisticRegression()).fit(X, y, sample_weight=np.ones(len(y)))


# --- A failed fit leaves the estimator as it was --------------------------------------------------


class FailInTraining(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("simulated failure in stage 2")


def test_a_failed_refit_on_new_labels_keeps_the_previous_state():
    X, y = float32_classification(120, 6)
    clf = JTTClassifier(make_net(max_epochs=6), T=1, random_state=0).fit(X, y)
    before = {key: value for key, value in vars(clf).items() if key.endswith("_")}
    predictions = clf.predict(X)
    renamed = np.where(y == 1, "no", "yes")  # inverted meaning if classes_ leaked through
    clf.set_params(final_params={"callbacks": [FailInTraining()]})
    with pytest.raises(RuntimeError, match="simulated failure"):
        clf.fit(X[:100], renamed[:100])
    after = {key: value for key, value in vars(clf).items() if key.endswith("_")}
    assert after.keys() == before.keys()
    assert all(after[key] is before[key] for key in before)
    np.testing.assert_array_equal(clf.predict(X), predictions)


@ignore_weak_identifier  # stage 1 trains one epoch on purpose: it may or may not beat the majority class
def test_a_failed_first_fit_leaves_the_estimator_unfitted():
    X, y = float32_classification(120, 6)
    clf = JTTClassifier(make_net(max_epochs=6), T=1, final_params={"callbacks": [FailInTraining()]})
    with pytest.raises(RuntimeError, match="simulated failure"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


# --- Persistence, pipelines and search ------------------------------------------------------------


@pytest.mark.parametrize("dump, load", [(pickle.dumps, pickle.loads), ("joblib", "joblib")])
def test_pickle_and_joblib_round_trip_with_a_skorch_net(data, tmp_path, dump, load):
    X, y = data
    clf = JTTClassifier(make_net(max_epochs=3), T=1, lambda_up=4, random_state=0).fit(X, y)
    if dump == "joblib":
        joblib.dump(clf, tmp_path / "jtt.joblib")
        restored = joblib.load(tmp_path / "jtt.joblib")
    else:
        restored = load(dump(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.error_set_, clf.error_set_)


def test_drops_into_a_pipeline_and_a_grid_search(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), JTTClassifier(LogisticRegression(), random_state=0))
    search = GridSearchCV(pipe, {"jttclassifier__T": [1, 3], "jttclassifier__lambda_up": [1, 5]}, cv=3)
    search.fit(X, y)
    assert set(search.best_params_) == {"jttclassifier__T", "jttclassifier__lambda_up"}
    assert search.predict(X).shape == (len(y),)


# --- verbose --------------------------------------------------------------------------------------


def test_verbose_1_names_each_stage_and_its_size(capsys):
    X, y = float32_classification(100, 5)
    clf = JTTClassifier(make_net(max_epochs=3), T=2, lambda_up=4, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    n_rows = len(y) + 3 * clf.error_set_.size
    assert "[JTT] stage 1/2: identification, max_epochs=2" in out
    assert f"[JTT] stage 2/2: final model, {n_rows} rows per epoch (lambda_up=4)" in out
    assert f"{clf.error_set_.size} of {len(y)} rows misclassified" in out
    assert (
        out.index("stage 1/2")
        < out.index("stage 1 done")
        < out.index("stage 2/2")
        < out.index("stage 2 done")
    )


def test_verbose_1_with_T_grid_and_sample_weight(tmp_path, capsys):
    X, y = float32_classification(100, 5)
    JTTClassifier(make_net(), T=1, T_grid=[1, 3], memory=tmp_path, verbose=1, random_state=0).fit(X, y)
    assert "identification, 3 epochs, recording T in [1, 3] (T=1)" in capsys.readouterr().out
    JTTClassifier(LogisticRegression(), T=2, verbose=1).fit(X, y)
    assert "rows counted by sample_weight" in capsys.readouterr().out


def test_verbose_0_prints_nothing(capsys):
    X, y = float32_classification(100, 5)
    JTTClassifier(make_net(), T=1, random_state=0).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("impute", ["pipeline", "column_transformer"])
def test_a_pipeline_that_imputes_fits_and_predicts_data_with_nan(impute):
    X, y = noisy_rows()
    X = X.astype(np.float64)
    X[::5, 1] = np.nan
    first = (
        SimpleImputer() if impute == "pipeline" else make_column_transformer((SimpleImputer(), [0, 1, 2, 3]))
    )
    clf = JTTClassifier(make_pipeline(first, LogisticRegression()), T=1, lambda_up=3).fit(X, y)
    assert clf.predict(X).shape == (len(y),)


@ignore_weak_identifier
def test_sparse_csr_reaches_a_skorch_net_unchanged():
    X, y = noisy_rows()
    clf = JTTClassifier(linear_skorch_net(), T=1, lambda_up=3, random_state=0).fit(sp.csr_matrix(X), y)
    dense = JTTClassifier(linear_skorch_net(), T=1, lambda_up=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.error_set_, dense.error_set_)
    np.testing.assert_allclose(clf.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), rtol=1e-5)
