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
from jtt_sklearn.baselines import GroupBalancedClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.metrics import make_worst_group_scorer, worst_class_accuracy, worst_group_accuracy
from jtt_sklearn.model_selection import make_validation_protocol, tune_on_validation

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


# tune_on_validation: progress lines, and selection without validation groups.

TUNE_GRID = {"T": [1, 2], "lambda_up": [1, 5, 20]}


@pytest.fixture(scope="module")
def digits():
    (X, y, _), (X_val, y_val, g_val), _ = load_colored_digits(random_state=0)
    return X, y, X_val, y_val, g_val


def _jtt():
    return JTTClassifier(LogisticRegression(max_iter=300), random_state=0)


def test_tune_on_validation_prints_each_candidate_and_the_choice(digits, capsys):
    model, search = tune_on_validation(_jtt(), TUNE_GRID, *digits, verbose=1)
    out = capsys.readouterr().out
    lines = out.splitlines()
    n_val = len(digits[3])
    assert lines[0] == (
        f"[tune_on_validation] scoring each candidate by worst-group accuracy on the {n_val} validation "
        f"rows after fitting it on the {len(digits[1])} training rows"
    )
    for k, params in enumerate(search.cv_results_["params"], 1):
        start = next(i for i, line in enumerate(lines) if line.startswith(f"[CV 1/1; {k}/6] START"))
        end = next(i for i, line in enumerate(lines) if line.startswith(f"[CV 1/1; {k}/6] END"))
        assert start < end
        assert f"T={params['T']}, lambda_up={params['lambda_up']}" in lines[start]
        assert f"score={search.cv_results_['mean_test_score'][k - 1]:.3f}" in lines[end]
    assert lines[-1] == (
        f"[tune_on_validation] chose candidate {search.best_index_ + 1}/6: {search.best_params_} "
        f"(worst-group accuracy {search.best_score_:.3f}); refitting it on the training rows"
    )


def test_tune_on_validation_is_silent_by_default(digits, capsys):
    tune_on_validation(_jtt(), TUNE_GRID, *digits)
    assert capsys.readouterr().out == ""


def test_verbose_tuning_in_parallel_chooses_the_same(digits, capsys):
    _, sequential = tune_on_validation(_jtt(), TUNE_GRID, *digits)
    model, parallel = tune_on_validation(_jtt(), TUNE_GRID, *digits, verbose=1, n_jobs=2)
    assert parallel.best_params_ == sequential.best_params_
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"])
    assert f"chose candidate {parallel.best_index_ + 1}/6" in capsys.readouterr().out


def test_without_validation_groups_selection_is_by_worst_class_accuracy(digits, capsys):
    X, y, X_val, y_val, g_val = digits
    model, search = tune_on_validation(_jtt(), TUNE_GRID, X, y, X_val, y_val, verbose=1)
    assert "worst_class_accuracy" in repr(search.scoring)
    manual = [
        worst_class_accuracy(y_val, _jtt().set_params(**params).fit(X, y).predict(X_val))
        for params in search.cv_results_["params"]
    ]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], manual)
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(manual))]
    # Refitted on the training rows only.
    np.testing.assert_array_equal(model.predict(X_val), _jtt().set_params(**search.best_params_).fit(X, y).predict(X_val))
    out = capsys.readouterr().out
    assert "by worst-class accuracy" in out and "no group_labels_val" in out
    assert f"(worst-class accuracy {search.best_score_:.3f})" in out


def test_group_labels_val_stays_the_seventh_positional_argument(digits):
    X, y, X_val, y_val, g_val = digits
    _, positional = tune_on_validation(_jtt(), {"lambda_up": [1, 50]}, X, y, X_val, y_val, g_val)
    _, keyword = tune_on_validation(_jtt(), {"lambda_up": [1, 50]}, X, y, X_val, y_val, group_labels_val=g_val)
    assert "worst_group_accuracy" in repr(positional.scoring)
    assert positional.best_params_ == keyword.best_params_
    np.testing.assert_array_equal(positional.cv_results_["mean_test_score"], keyword.cv_results_["mean_test_score"])


def test_worst_class_tuning_needs_two_validation_classes(digits):
    X, y, X_val, y_val, _ = digits
    with pytest.raises(ValueError, match="y_val holds a single class"):
        tune_on_validation(_jtt(), {"lambda_up": [1, 5]}, X, y, X_val[y_val == 1], y_val[y_val == 1])


def test_an_oracle_tunes_without_validation_groups(digits):
    X, y, X_val, y_val, _ = digits
    (_, _, g), _, _ = load_colored_digits(random_state=0)
    model, search = tune_on_validation(
        GroupBalancedClassifier(LogisticRegression(max_iter=300)), {"upsampling": ["auto", "index"]},
        X, y, X_val, y_val, train_group_labels=g,
    )
    assert "worst_class_accuracy" in repr(search.scoring)
    expected = GroupBalancedClassifier(LogisticRegression(max_iter=300), **search.best_params_).fit(X, y, group_labels=g)
    np.testing.assert_array_equal(model.sample_multiplicity_, expected.sample_multiplicity_)
