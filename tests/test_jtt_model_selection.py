"""JTTClassifier under scikit-learn's search objects with worst-group scoring."""

import numpy as np
import pytest
import sklearn
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    HalvingGridSearchCV,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.metrics import make_worst_group_scorer, worst_group_accuracy
from jtt_sklearn.model_selection import make_validation_protocol

GRID = {"jttclassifier__T": [1, 10], "jttclassifier__lambda_up": [1, 5, 20, 200]}


@pytest.fixture(autouse=True)
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


@pytest.fixture(scope="module")
def protocol():
    """Coloured digits with a validation set drawn like training (few minority rows)."""
    (X_tr, y_tr, _), (X_va, y_va, g_va), _ = load_colored_digits(random_state=0)
    keep = (g_va == 0) | (g_va == 3) | (np.random.RandomState(0).rand(len(g_va)) < 0.15)
    return make_validation_protocol(X_tr, y_tr, X_va[keep], y_va[keep], g_va[keep])


def _pipe():
    return make_pipeline(MinMaxScaler(), JTTClassifier(LogisticRegression(max_iter=500), random_state=0))


def test_worst_group_selection_differs_from_accuracy_selection(protocol):
    X, y, groups, cv = protocol
    search = GridSearchCV(
        _pipe(),
        GRID,
        cv=cv,
        scoring={"worst_group": make_worst_group_scorer(), "accuracy": "accuracy"},
        refit="worst_group",
        error_score="raise",
    ).fit(X, y, group_labels=groups)
    results = search.cv_results_
    by_worst = results["params"][np.argmax(results["mean_test_worst_group"])]
    by_accuracy = results["params"][np.argmax(results["mean_test_accuracy"])]
    assert search.best_params_ == by_worst
    assert by_worst != by_accuracy
    assert results["mean_test_worst_group"].max() > results["mean_test_worst_group"][
        results["params"].index(by_accuracy)
    ]
    # The scores are the worst-group accuracy of the validation rows only.
    val = groups != -1
    model = make_pipeline(MinMaxScaler(), JTTClassifier(LogisticRegression(max_iter=500), random_state=0))
    model.set_params(**by_worst).fit(X[~val], y[~val])
    expected = worst_group_accuracy(y[val], model.predict(X[val]), group_labels=groups[val])
    assert results["mean_test_worst_group"].max() == pytest.approx(expected)


def test_randomized_and_halving_searches_and_cross_validate(protocol):
    X, y, groups, cv = protocol
    scorer = make_worst_group_scorer()
    randomized = RandomizedSearchCV(
        _pipe(), GRID, n_iter=3, cv=cv, scoring=scorer, random_state=0, error_score="raise"
    ).fit(X, y, group_labels=groups)
    assert 0.0 <= randomized.best_score_ <= 1.0
    # Halving needs several folds; use an ordinary 3-fold split with groups known everywhere.
    labelled = groups != -1
    halving = HalvingGridSearchCV(
        _pipe(), GRID, cv=3, scoring=scorer, factor=2, min_resources=100, random_state=0, error_score="raise"
    ).fit(X[labelled], y[labelled], group_labels=groups[labelled])
    assert set(halving.best_params_) == set(GRID)
    scores = cross_validate(_pipe(), X[labelled], y[labelled], cv=3, scoring=scorer, params={"group_labels": groups[labelled]})
    assert np.all((scores["test_score"] >= 0) & (scores["test_score"] <= 1))


def test_group_kfold_on_patient_ids_and_worst_group_on_group_labels(protocol):
    X, y, groups, _ = protocol
    labelled = groups != -1
    X, y, groups = X[labelled], y[labelled], groups[labelled]
    patients = np.arange(len(y)) % 7
    search = GridSearchCV(
        _pipe(), {"jttclassifier__lambda_up": [1, 20]}, cv=GroupKFold(n_splits=3),
        scoring=make_worst_group_scorer(), error_score="raise",
    ).fit(X, y, groups=patients, group_labels=groups)
    for split in range(3):
        assert not np.isnan(search.cv_results_[f"split{split}_test_score"]).any()
