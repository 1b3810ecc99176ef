"""Where jtt-sklearn meets scikit-learn, skorch and the user's files."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import torch
from sklearn.compose import make_column_transformer
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier
from skorch import NeuralNetBinaryClassifier, NeuralNetClassifier
from torch.utils.data import TensorDataset

from jtt_sklearn import JTTClassifier
from jtt_sklearn.baselines import GroupBalancedClassifier, GroupDROClassifier
from jtt_sklearn.datasets import load_multinli, load_waterbirds
from jtt_sklearn import exceptions
from jtt_sklearn.metrics import make_worst_group_scorer
from jtt_sklearn.model_selection import make_validation_protocol, refit_on_train, tune_on_validation

from ._fixtures import write_image, write_multinli, write_waterbirds


def _data(n=90, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = ((X[:, 0] + 0.5 * rng.normal(size=n)) > 0).astype(np.int64)
    return X, y


def _linear_net(**params):
    return NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=4,
        module__out_features=2,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
        **params,
    )


# --- the base estimator validates its own input ---------------------------------------------------


@pytest.mark.parametrize("impute", ["pipeline", "column_transformer"])
def test_a_pipeline_that_imputes_fits_and_predicts_data_with_nan(impute):
    X, y = _data()
    X = X.astype(np.float64)
    X[::5, 1] = np.nan
    first = (
        SimpleImputer() if impute == "pipeline" else make_column_transformer((SimpleImputer(), [0, 1, 2, 3]))
    )
    clf = JTTClassifier(make_pipeline(first, LogisticRegression()), T=1, lambda_up=3).fit(X, y)
    assert clf.predict(X).shape == (len(y),)


def test_nan_that_would_reach_a_bare_net_is_refused_with_the_imputer_advice():
    X, y = _data()
    X[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity.*SimpleImputer"):
        JTTClassifier(_linear_net(), T=1).fit(X, y)


def test_sparse_csr_reaches_a_skorch_net_unchanged():
    X, y = _data()
    clf = JTTClassifier(_linear_net(), T=1, lambda_up=3, random_state=0).fit(sp.csr_matrix(X), y)
    dense = JTTClassifier(_linear_net(), T=1, lambda_up=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.error_set_, dense.error_set_)
    np.testing.assert_allclose(clf.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), rtol=1e-5)


def test_a_binary_skorch_net_is_refused_by_name_with_the_alternative():
    X, y = _data()
    net = NeuralNetBinaryClassifier(torch.nn.Linear, module__in_features=4, module__out_features=1, verbose=0)
    with pytest.raises(ValueError, match="NeuralNetBinaryClassifier.*NeuralNetClassifier"):
        JTTClassifier(net, T=1).fit(X, y)


# --- counting error rows exactly lambda_up times ----------------------------------------------------


def test_auto_fits_on_copies_where_a_weight_is_not_a_copy():
    X, y = _data(200)
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
    X, y = _data(200)
    tree = DecisionTreeClassifier(min_samples_leaf=5, random_state=0)
    with pytest.warns(UserWarning, match="min_samples_leaf.*not the same as lambda_up copies"):
        JTTClassifier(tree, T=2, epochs_param="max_depth", upsampling="sample_weight").fit(X, y)


# --- oracle baselines take the metrics' group checks --------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, -1.0], ids=["nan", "minus-one-float"])
def test_oracles_refuse_nan_and_float_unknown_training_groups(bad):
    X, y = _data()
    groups = (2 * y + (X[:, 1] > 0)).astype(np.float64)
    groups[7] = bad
    with pytest.raises(ValueError, match="NaN|unknown group"):
        GroupBalancedClassifier(LogisticRegression()).fit(X, y, group_labels=groups)


def test_group_dro_with_skorchs_stratified_default_split_says_what_to_set():
    X, y = _data()
    net = NeuralNetClassifier(torch.nn.Linear, module__in_features=4, module__out_features=2, verbose=0)
    with pytest.raises(ValueError, match="train_split=None"):
        GroupDROClassifier(net).fit(X, y, group_labels=2 * y + (X[:, 1] > 0))


# --- searches -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_group_labels_of_another_length_than_X_stop_the_search(n_jobs):
    X, y = _data()
    groups = np.arange(90) % 3
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            JTTClassifier(LogisticRegression()),
            {"lambda_up": [1, 5]},
            cv=KFold(3),
            scoring=make_worst_group_scorer(),
            n_jobs=n_jobs,
        )
        search.fit(X, y, group_labels=groups)  # one per row: indexed by fold
        with pytest.raises(exceptions.MisalignedGroupLabelsError, match="30 values"):
            search.fit(X, y, group_labels=groups[:30])  # the size of a test fold


def _protocol():
    X, y = _data()
    g = 2 * y + (X[:, 1] > 0)
    return make_validation_protocol(X[:60], y[:60], X[60:], y[60:], g[60:]), (X[:60], y[:60])


@pytest.mark.parametrize("refit", [True, False])
def test_refit_true_on_the_protocols_rows_warns_at_the_users_line(refit):
    protocol, _ = _protocol()
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = GridSearchCV(
            JTTClassifier(LogisticRegression()),
            {"lambda_up": [1, 5]},
            cv=protocol.cv,
            scoring=make_worst_group_scorer(),
            refit=refit,
        )
        search.fit(protocol.X, protocol.y, group_labels=protocol.group_labels)
    about_refit = [w for w in caught if "refit_on_train" in str(w.message)]
    assert len(about_refit) == (1 if refit else 0)
    assert all(w.filename == __file__ for w in about_refit)


def test_refit_after_halving_trains_at_the_configured_length():
    protocol, (X_train, y_train) = _protocol()
    with sklearn.config_context(enable_metadata_routing=True):
        search = HalvingGridSearchCV(
            JTTClassifier(LogisticRegression(max_iter=24), T=1),
            {"lambda_up": [1, 2, 5, 10, 20, 50]},
            resource="base_estimator__max_iter",
            max_resources=24,
            min_resources=2,
            factor=3,
            cv=protocol.cv,
            scoring=make_worst_group_scorer(),
            refit=False,
            return_train_score=False,
        )
        search.fit(protocol.X, protocol.y, group_labels=protocol.group_labels)
    assert max(search.n_resources_) < 24  # the rounds stop short of the configured length
    model = refit_on_train(search, X_train, y_train)
    assert model.base_estimator.max_iter == 24


@pytest.mark.parametrize("kind", ["dataset", "dict"])
def test_the_protocol_refuses_data_a_search_cannot_index_with_what_to_do(kind):
    X, y = _data()
    wrap = (lambda a: TensorDataset(torch.as_tensor(a))) if kind == "dataset" else (lambda a: {"x": a})
    with pytest.raises(TypeError, match="indexes X by row.*worst_group_accuracy"):
        make_validation_protocol(wrap(X[:60]), y[:60], wrap(X[60:]), y[60:], y[60:] * 2)
    with pytest.raises(TypeError, match="indexes X by row"):
        tune_on_validation(
            JTTClassifier(LogisticRegression()),
            {"lambda_up": [1]},
            wrap(X[:60]),
            y[:60],
            wrap(X[60:]),
            y[60:],
            y[60:] * 2,
        )


# --- the user's files -----------------------------------------------------------------------------------


def test_waterbirds_images_of_different_sizes_ask_for_a_resizing_transform(tmp_path):
    from PIL import Image

    write_waterbirds(tmp_path)
    Image.fromarray(np.zeros((9, 7, 3), dtype=np.uint8)).save(tmp_path / "000.Bird/img_0.png")
    train = load_waterbirds(tmp_path).train.X
    loader = torch.utils.data.DataLoader(train, batch_size=len(train))
    with pytest.raises(ValueError, match="different sizes.*Resize"):
        next(iter(loader))


def test_waterbirds_refuses_image_names_outside_its_folder(tmp_path):
    write_waterbirds(tmp_path)
    write_image(tmp_path.parent / "outside.png", 0)
    meta = (tmp_path / "metadata.csv").read_text().replace("000.Bird/img_0.png", "../outside.png")
    (tmp_path / "metadata.csv").write_text(meta)
    with pytest.raises(ValueError, match="outside the dataset folder"):
        load_waterbirds(tmp_path)


def test_waterbirds_refuses_an_image_listed_twice(tmp_path):
    write_waterbirds(tmp_path)
    lines = (tmp_path / "metadata.csv").read_text().splitlines()
    lines.append(lines[1].replace("0,0\n", "").rsplit(",", 2)[0] + ",2,0")  # the same image in the test split
    (tmp_path / "metadata.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="data rows 1 and 13"):
        load_waterbirds(tmp_path)


def test_multinli_names_the_row_with_a_dash_label_and_the_allowed_values(tmp_path):
    write_multinli(tmp_path, named=True)
    text = (tmp_path / "multinli.csv").read_text().splitlines()
    text[5] = text[5].replace("entailment", "-").replace("neutral", "-").replace("contradiction", "-")
    (tmp_path / "multinli.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(ValueError, match=r"data row 5 .*'-'.*contradiction, entailment, neutral or 0, 1, 2"):
        load_multinli(tmp_path)
