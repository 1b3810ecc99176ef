"""Group scorers: group_labels routed to worst-group scoring in searches, or a loud error without them."""

import pickle
import re
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    HalvingGridSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from jtt_sklearn import JTTClassifier, exceptions
from jtt_sklearn.exceptions import MissingGroupLabelsError
from jtt_sklearn.metrics import (
    UnknownGroupLabelsError,
    group_proportions,
    make_group_scorer,
    make_worst_class_scorer,
    make_worst_group_scorer,
    mean_group_accuracy,
    weighted_group_accuracy,
    worst_class_accuracy,
    worst_group_accuracy,
)
from jtt_sklearn.model_selection import (
    make_validation_protocol,
)

from .._fixtures import ignore_refit_on_validation_rows, noisy_rows

# A plain grid over class weights: upweighting class 0 moves the threshold
# away from the majority group's optimum toward the minority group's.
GRID = {"class_weight": [None, {0: 3, 1: 1}, {0: 10, 1: 1}]}


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def make_shifted_groups(n_samples=600, seed=0):
    """Majority group: y = x > 0; minority group (10 %): y = x > 1.5."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(-3, 3, size=n_samples)
    minority = rng.rand(n_samples) < 0.1
    y = np.where(minority, x > 1.5, x > 0).astype(int)
    return x[:, None], y, minority.astype(int)


def manual_cv_scores(estimator, X, y, groups, splits, **fit_params):
    return [
        worst_group_accuracy(
            y[test],
            clone(estimator).fit(X[train], y[train], **fit_params).predict(X[test]),
            group_labels=groups[test],
        )
        for train, test in splits
    ]


def test_routing_off_raises_with_the_line_to_switch_it_on():
    with sklearn.config_context(enable_metadata_routing=False):
        with pytest.raises(
            RuntimeError,
            match=re.escape("sklearn.set_config(enable_metadata_routing=True)"),
        ):
            make_worst_group_scorer()


def test_scorer_requests_group_labels(routing):
    scorer = make_worst_group_scorer()
    assert repr(scorer) == ("make_group_scorer(worst_group_accuracy, response_method='predict')")
    assert scorer.get_metadata_routing().score.requests == {"group_labels": True}


def test_set_score_request_keeps_group_labels(routing):
    scorer = make_worst_group_scorer().set_score_request(sample_weight=True)
    assert scorer.get_metadata_routing().score.requests == {
        "group_labels": True,
        "sample_weight": True,
    }
    with pytest.raises(ValueError, match="cannot work without group_labels"):
        scorer.set_score_request(group_labels=False)


def test_direct_call(routing):
    X, y, groups = make_shifted_groups()
    model = LogisticRegression().fit(X, y)
    scorer = make_worst_group_scorer()
    expected = worst_group_accuracy(y, model.predict(X), group_labels=groups)
    assert scorer(model, X, y, group_labels=groups) == expected
    with pytest.raises(MissingGroupLabelsError, match="needs 'group_labels' but none were passed"):
        scorer(model, X, y)


def test_scorer_pickles(routing):
    X, y, groups = make_shifted_groups()
    model = LogisticRegression().fit(X, y)
    scorer = pickle.loads(pickle.dumps(make_worst_group_scorer()))
    assert scorer.get_metadata_routing().score.requests == {"group_labels": True}
    assert scorer(model, X, y, group_labels=groups) == worst_group_accuracy(
        y, model.predict(X), group_labels=groups
    )


def test_make_group_scorer_argument_errors(routing):
    with pytest.raises(ValueError, match="does not accept a group_labels"):
        make_group_scorer(accuracy_score)
    with pytest.raises(ValueError, match="group_labels cannot be fixed"):
        make_group_scorer(worst_group_accuracy, group_labels=[0, 1])
    with pytest.raises(TypeError, match="must be a callable"):
        make_group_scorer("worst_group_accuracy")


def test_grid_search_prefers_worst_group_over_accuracy(routing):
    X, y, groups = make_shifted_groups()
    cv = StratifiedKFold(3)
    by_accuracy = GridSearchCV(LogisticRegression(C=100), GRID, cv=cv).fit(X, y)
    by_worst_group = GridSearchCV(
        LogisticRegression(C=100),
        GRID,
        cv=cv,
        scoring=make_worst_group_scorer(),
        error_score="raise",
    ).fit(X, y, group_labels=groups)

    assert by_accuracy.best_params_ == {"class_weight": None}
    assert by_worst_group.best_params_ != by_accuracy.best_params_
    # The worst-group choice really has the better worst-group score...
    scores = by_worst_group.cv_results_["mean_test_score"]
    assert scores[by_worst_group.best_index_] > scores[by_accuracy.best_index_]
    # ...and the scores are the per-fold worst-group accuracies.
    best = LogisticRegression(C=100, **by_worst_group.best_params_)
    assert by_worst_group.best_score_ == pytest.approx(
        np.mean(manual_cv_scores(best, X, y, groups, cv.split(X, y)))
    )


def test_randomized_search(routing):
    X, y, groups = make_shifted_groups()
    search = RandomizedSearchCV(
        LogisticRegression(C=100),
        GRID,
        n_iter=3,
        cv=3,
        random_state=0,
        scoring=make_worst_group_scorer(),
        error_score="raise",
    ).fit(X, y, group_labels=groups)
    assert search.best_params_ == {"class_weight": {0: 10, 1: 1}}


def test_halving_grid_search(routing):
    X, y, groups = make_shifted_groups(n_samples=900)
    search = HalvingGridSearchCV(
        LogisticRegression(C=100),
        GRID,
        cv=3,
        factor=2,
        min_resources=300,
        random_state=0,  # the subsamples of the first rounds
        scoring=make_worst_group_scorer(),
        error_score="raise",
    ).fit(X, y, group_labels=groups)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # Accuracy would keep class_weight=None; the last round is close between
    # the two reweighted candidates, so only the first choice is asserted.
    assert search.best_params_ != {"class_weight": None}


def test_cross_validate(routing):
    X, y, groups = make_shifted_groups()
    cv = StratifiedKFold(3)
    results = cross_validate(
        LogisticRegression(),
        X,
        y,
        cv=cv,
        scoring={"worst_group": make_worst_group_scorer(), "accuracy": "accuracy"},
        params={"group_labels": groups},
    )
    np.testing.assert_allclose(
        results["test_worst_group"],
        manual_cv_scores(LogisticRegression(), X, y, groups, cv.split(X, y)),
    )
    assert np.all(results["test_worst_group"] < results["test_accuracy"])


def test_multimetric_pipeline_refits_on_worst_group(routing):
    X, y, groups = make_shifted_groups()
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=100))
    grid = {"logisticregression__" + key: values for key, values in GRID.items()}
    search = GridSearchCV(
        pipe,
        grid,
        cv=StratifiedKFold(3),
        scoring={"worst_group": make_worst_group_scorer(), "accuracy": "accuracy"},
        refit="worst_group",
        error_score="raise",
    ).fit(X, y, group_labels=groups)
    results = search.cv_results_
    assert search.best_index_ == np.argmax(results["mean_test_worst_group"])
    assert search.best_index_ != np.argmax(results["mean_test_accuracy"])
    assert search.best_params_ == {"logisticregression__class_weight": {0: 10, 1: 1}}


def test_group_kfold_groups_and_group_labels_do_not_collide(routing):
    X, y, groups = make_shifted_groups()
    patient_ids = np.arange(len(y)) % 12
    cv = GroupKFold(n_splits=3)
    search = GridSearchCV(
        LogisticRegression(C=100),
        GRID,
        cv=cv,
        scoring=make_worst_group_scorer(),
        error_score="raise",
    ).fit(X, y, groups=patient_ids, group_labels=groups)
    splits = list(cv.split(X, y, groups=patient_ids))
    for train, test in splits:  # the folds really follow the patients
        assert not set(patient_ids[train]) & set(patient_ids[test])
    for index, params in enumerate(search.cv_results_["params"]):
        expected = manual_cv_scores(LogisticRegression(C=100, **params), X, y, groups, splits)
        actual = [search.cv_results_[f"split{i}_test_score"][index] for i in range(3)]
        np.testing.assert_allclose(actual, expected)

    results = cross_validate(
        LogisticRegression(),
        X,
        y,
        cv=cv,
        scoring=make_worst_group_scorer(),
        params={"groups": patient_ids, "group_labels": groups},
    )
    np.testing.assert_allclose(
        results["test_score"],
        manual_cv_scores(LogisticRegression(), X, y, groups, splits),
    )


MISSING = "needs 'group_labels' but none were passed"


@pytest.mark.parametrize(
    "scoring",
    [
        pytest.param("single", id="single"),
        pytest.param("multi", id="multi"),
    ],
)
def test_search_without_group_labels_fails_loudly(routing, scoring):
    X, y, _ = make_shifted_groups()
    scorer = make_worst_group_scorer()
    if scoring == "multi":
        scorer = {"worst_group": scorer, "accuracy": "accuracy"}
    search = GridSearchCV(
        LogisticRegression(),
        GRID,
        scoring=scorer,
        refit="worst_group" if scoring == "multi" else True,
        error_score="raise",
    )
    with pytest.raises(MissingGroupLabelsError, match=MISSING):
        search.fit(X, y)


def test_missing_group_labels_caught_while_routing_even_with_nan_error_score(routing):
    # When fit gets any metadata, the check runs while routing, before any
    # fitting and outside error_score's reach.
    X, y, _ = make_shifted_groups()
    search = GridSearchCV(LogisticRegression(), GRID, cv=GroupKFold(3), scoring=make_worst_group_scorer())
    with pytest.raises(MissingGroupLabelsError, match=MISSING):
        search.fit(X, y, groups=np.arange(len(y)) % 6)
    with pytest.raises(MissingGroupLabelsError, match=MISSING):
        cross_validate(
            LogisticRegression(),
            X,
            y,
            cv=GroupKFold(3),
            scoring=make_worst_group_scorer(),
            params={"groups": np.arange(len(y)) % 6},
        )


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_missing_group_labels_stop_a_search_with_the_default_error_score(routing, n_jobs):
    # scikit-learn skips routing when fit gets no metadata at all, and its
    # default error_score=np.nan turns every Exception of a scorer into NaN.
    # MissingGroupLabelsError is a BaseException, so it stops the search.
    X, y, _ = make_shifted_groups()
    search = GridSearchCV(LogisticRegression(), GRID, scoring=make_worst_group_scorer(), n_jobs=n_jobs)
    with pytest.raises(MissingGroupLabelsError, match=MISSING):
        search.fit(X, y)
    with pytest.raises(MissingGroupLabelsError, match=MISSING):
        cross_validate(LogisticRegression(), X, y, scoring=make_worst_group_scorer())


def test_search_score_needs_group_labels(routing):
    X, y, groups = make_shifted_groups()
    search = GridSearchCV(
        LogisticRegression(), GRID, scoring=make_worst_group_scorer(), error_score="raise"
    ).fit(X, y, group_labels=groups)
    assert search.score(X, y, group_labels=groups) == worst_group_accuracy(
        y, search.predict(X), group_labels=groups
    )
    with pytest.raises(MissingGroupLabelsError, match=MISSING):
        search.score(X, y)


def test_scoring_a_single_group_fold_raises(routing):
    X, y, groups = make_shifted_groups()
    order = np.argsort(groups, kind="stable")  # unshuffled folds: one group each
    search = GridSearchCV(
        LogisticRegression(),
        GRID,
        cv=2,
        scoring=make_worst_group_scorer(),
        error_score="raise",
    )
    with pytest.raises(ValueError, match="Only one group"):
        search.fit(X[order], y[order], group_labels=groups[order])


def test_other_group_metrics(routing):
    X, y, groups = make_shifted_groups()
    model = LogisticRegression().fit(X, y)
    weights = group_proportions(groups)
    scorer = make_group_scorer(weighted_group_accuracy, group_weights=weights)
    assert scorer(model, X, y, group_labels=groups) == pytest.approx(
        weighted_group_accuracy(y, model.predict(X), group_labels=groups, group_weights=weights)
    )
    # Plain accuracy is the training-proportion-weighted group accuracy.
    assert scorer(model, X, y, group_labels=groups) == pytest.approx(model.score(X, y))
    mean_scorer = make_group_scorer(mean_group_accuracy)
    assert mean_scorer(model, X, y, group_labels=groups) == mean_group_accuracy(
        y, model.predict(X), group_labels=groups
    )


def test_group_labels_alias(routing):
    X, y, groups = make_shifted_groups()
    scorer = make_worst_group_scorer().set_score_request(group_labels="val_groups")
    results = cross_validate(LogisticRegression(), X, y, cv=3, scoring=scorer, params={"val_groups": groups})
    assert np.all(np.isfinite(results["test_score"]))


def test_scorer_used_after_routing_was_switched_off_shows_the_line():
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_worst_group_scorer()
    X = np.random.RandomState(0).normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(MissingGroupLabelsError, match=r"sklearn.set_config\(enable_metadata_routing=True\)"):
        scorer(model, X, y)
    # ...and a search run with routing off stops instead of scoring NaN.
    search = GridSearchCV(LogisticRegression(), GRID, scoring=scorer)
    with pytest.raises(MissingGroupLabelsError, match="enable_metadata_routing=True"):
        search.fit(X, y)


def make_rare_class(n_samples=300, seed=0):
    """About 15 % of the rows are class 1, and the classes overlap."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 2))
    return X, (X[:, 0] + 0.5 * rng.normal(size=n_samples) > 1).astype(int)


@pytest.mark.parametrize("routing_on", [False, True])
def test_worst_class_scorer_selects_in_a_plain_search(routing_on):
    X, y = make_rare_class()
    cv = StratifiedKFold(3)
    grid = {"class_weight": [None, {0: 1, 1: 3}, "balanced"]}
    with sklearn.config_context(enable_metadata_routing=routing_on):
        scorer = make_worst_class_scorer()
        search = GridSearchCV(LogisticRegression(), grid, cv=cv, scoring=scorer).fit(X, y)
        by_accuracy = GridSearchCV(LogisticRegression(), grid, cv=cv).fit(X, y)
    assert repr(scorer) == "make_scorer(worst_class_accuracy, response_method='predict')"
    manual = [
        np.mean(
            [
                worst_class_accuracy(
                    y[test], LogisticRegression(**params).fit(X[train], y[train]).predict(X[test])
                )
                for train, test in cv.split(X, y)
            ]
        )
        for params in search.cv_results_["params"]
    ]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], manual)
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(manual))]
    # The rare class decides: accuracy would keep the unweighted model.
    assert search.best_params_ != by_accuracy.best_params_


def test_worst_class_scorer_is_called_without_group_labels():
    X, y = make_rare_class()
    model = LogisticRegression().fit(X, y)
    scorer = make_worst_class_scorer()
    assert scorer(model, X, y) == worst_class_accuracy(y, model.predict(X))
    with sklearn.config_context(enable_metadata_routing=True):
        assert "group_labels" not in scorer.get_metadata_routing().score.requests
        assert cross_validate(model, X, y, cv=3, scoring=scorer)["test_score"].shape == (3,)


def _protocol_data():
    X, y, minority = make_shifted_groups(n_samples=300)
    return make_validation_protocol(X[:200], y[:200], X[200:], y[200:], minority[200:])


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_folds_with_unknown_groups_stop_the_search_instead_of_scoring_nan(routing, n_jobs):
    # cv=3 on make_validation_protocol's rows: test folds hold training rows (group -1).
    X, y, group_labels, _ = _protocol_data()
    search = GridSearchCV(
        JTTClassifier(LogisticRegression()),
        {"lambda_up": [1, 5]},
        cv=3,
        scoring=make_worst_group_scorer(),
        n_jobs=n_jobs,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(
            UnknownGroupLabelsError, match=r"have the unknown group UNKNOWN_GROUP \(-1\)"
        ) as error:
            search.fit(X, y, group_labels=group_labels)
    assert "pass cv=protocol.cv rather than cv=<number of folds>" in str(error.value)
    assert "PredefinedSplit" in str(error.value)
    assert not any("Scoring failed" in str(warning.message) for warning in caught)
    assert not hasattr(search, "cv_results_")
    with pytest.raises(UnknownGroupLabelsError):
        cross_validate(
            LogisticRegression(),
            X,
            y,
            cv=3,
            scoring=make_worst_group_scorer(),
            params={"group_labels": group_labels},
        )


@ignore_refit_on_validation_rows
def test_the_protocol_split_still_scores_and_unknown_rows_fail_a_direct_call(routing):
    X, y, group_labels, cv = _protocol_data()
    search = GridSearchCV(
        JTTClassifier(LogisticRegression()),
        {"lambda_up": [1, 5]},
        cv=cv,
        scoring=make_worst_group_scorer(),
    ).fit(X, y, group_labels=group_labels)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    model = LogisticRegression().fit(X, y)
    with pytest.raises(UnknownGroupLabelsError, match="cannot score these rows: 200 of the 300 rows"):
        make_worst_group_scorer()(model, X, y, group_labels=group_labels)
    # The metric itself keeps raising a ValueError.
    with pytest.raises(ValueError, match="unknown group"):
        worst_group_accuracy(y, model.predict(X), group_labels=group_labels)
    # Named groups: the unknown name stops it too.
    named = np.where(group_labels == -1, "<unknown>", np.where(group_labels == 1, "minority", "majority"))
    with pytest.raises(UnknownGroupLabelsError, match="200 of the 300 rows"):
        make_worst_group_scorer()(model, X, y, group_labels=named)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_group_labels_of_another_length_than_X_stop_the_search(n_jobs):
    X, y = noisy_rows()
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
