"""The base estimator sees what it would see alone: its labels, its parameters, every Pipeline step."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler
from skorch import NeuralNetClassifier

from jtt_sklearn import JTTClassifier
from jtt_sklearn.baselines import GroupBalancedClassifier
from jtt_sklearn.model_selection import tune_on_validation

from ._fixtures import ignore_convergence, ignore_weak_identifier


@pytest.fixture
def three_classes():
    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4, random_state=0)
    return X, y + 1  # labels 1, 2, 3


# --- Labels ---------------------------------------------------------------------------------------


def test_class_weight_keyed_by_the_users_labels_means_what_it_means_on_the_base(three_classes):
    X, y = three_classes
    base = LogisticRegression(class_weight={1: 1, 2: 20}, max_iter=1000)
    alone = sklearn.clone(base).fit(X, y).predict(X)
    erm = JTTClassifier(base, T=None, lambda_up=1, random_state=0).fit(X, y)  # lambda_up=1 is ERM
    np.testing.assert_array_equal(erm.predict(X), alone)


@pytest.mark.parametrize("names", [["cat", "dog", "emu"], [10, 20, 30]], ids=["strings", "other ints"])
def test_class_weight_keyed_by_string_or_any_labels_fits(three_classes, names):
    X, y = three_classes
    labels = np.asarray(names)[y - 1]
    weights = {names[0]: 1, names[1]: 5}
    base = LogisticRegression(class_weight=weights, max_iter=1000)
    jtt = JTTClassifier(base, T=None, lambda_up=1).fit(X, labels)
    np.testing.assert_array_equal(jtt.classes_, np.asarray(names))
    np.testing.assert_array_equal(jtt.predict(X), sklearn.clone(base).fit(X, labels).predict(X))
    oracle = GroupBalancedClassifier(base).fit(X, labels, group_labels=y)
    assert set(oracle.predict(X)) <= set(names)


@ignore_convergence
def test_predict_proba_is_unchanged_for_bases_without_label_valued_parameters(three_classes):
    X, y = three_classes
    labels = np.array(["x", "y", "z"])[y - 1]
    jtt = JTTClassifier(LogisticRegression(max_iter=50), T=2, lambda_up=7, random_state=0).fit(X, labels)
    # What the previous release did: the base trained on labels encoded 0..K-1.
    encoded = LabelEncoder().fit_transform(labels)
    before = JTTClassifier(LogisticRegression(max_iter=50), T=2, lambda_up=7, random_state=0).fit(X, encoded)
    np.testing.assert_array_equal(jtt.error_set_, before.error_set_)
    np.testing.assert_allclose(jtt.predict_proba(X), before.predict_proba(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(jtt.predict(X), np.array(["x", "y", "z"])[before.predict(X)])


@ignore_weak_identifier
def test_a_nets_own_classes_setting_orders_its_outputs(three_classes):
    X, y = three_classes
    labels = np.array(["a", "b", "c"])[y - 1]
    net = NeuralNetClassifier(
        torch.nn.Linear, module__in_features=X.shape[1], module__out_features=3, classes=["c", "a", "b"],
        criterion=torch.nn.CrossEntropyLoss, lr=0.1, max_epochs=5, train_split=None, verbose=0,
    )  # fmt: skip
    jtt = JTTClassifier(net, T=1, lambda_up=2, random_state=0).fit(X.astype(np.float32), labels)
    np.testing.assert_array_equal(jtt.classes_, ["c", "a", "b"])
    proba = jtt.predict_proba(X.astype(np.float32))
    np.testing.assert_array_equal(jtt.predict(X.astype(np.float32)), jtt.classes_[proba.argmax(axis=1)])
    X32 = X.astype(np.float32)
    assert jtt.score(X32, labels) == pytest.approx(np.mean(jtt.predict(X32) == labels))
    with pytest.raises(ValueError, match="classes=.*does not name"):
        JTTClassifier(sklearn.clone(net).set_params(classes=["a", "b"]), T=1).fit(X.astype(np.float32), labels)


# --- Pipelines ------------------------------------------------------------------------------------


def _pipeline():
    return make_pipeline(StandardScaler(), PCA(n_components=3, random_state=0), LogisticRegression())


def test_a_pipeline_gives_one_model_whatever_the_routing_switch():
    X, y = make_classification(n_samples=400, n_features=10, random_state=0)
    off = JTTClassifier(_pipeline(), T=1, lambda_up=20, random_state=0).fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        on = JTTClassifier(_pipeline(), T=1, lambda_up=20, random_state=0).fit(X, y)
    assert off.upsampling_ == on.upsampling_ == "index"
    np.testing.assert_allclose(off.predict_proba(X), on.predict_proba(X))
    # Every step saw each error row lambda_up times: the scaler's mean is the counted mean.
    counted_mean = np.average(X, axis=0, weights=off.sample_multiplicity_)
    np.testing.assert_allclose(off.final_estimator_[0].mean_, counted_mean)


def test_the_tuned_pipeline_equals_a_hand_refit():
    X, y = make_classification(n_samples=400, n_features=10, random_state=1)
    g = 2 * y + (X[:, 1] > 0)
    model, search = tune_on_validation(
        JTTClassifier(_pipeline(), T=1, random_state=0), {"lambda_up": [1, 5, 20]},
        X[:300], y[:300], X[300:], y[300:], g[300:],
    )  # fmt: skip
    by_hand = JTTClassifier(_pipeline(), T=1, random_state=0, **search.best_params_).fit(X[:300], y[:300])
    np.testing.assert_allclose(model.predict_proba(X), by_hand.predict_proba(X))


@ignore_convergence
def test_T_sets_the_final_steps_length_not_a_preprocessing_steps():
    X, y = make_classification(n_samples=200, random_state=0)
    with pytest.raises(ValueError, match="final step of the Pipeline .RandomForestClassifier. has no"):
        JTTClassifier(make_pipeline(SelectFromModel(LogisticRegression()), RandomForestClassifier()), T=1).fit(X, y)
    jtt = JTTClassifier(make_pipeline(SelectFromModel(LogisticRegression()), LogisticRegression()), T=1).fit(X, y)
    assert jtt.epochs_param_ == "logisticregression__max_iter"
    assert jtt.identifier_[0].estimator.max_iter == 100  # the selector trained in full
