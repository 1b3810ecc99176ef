"""make_validation_protocol and refit_on_train: train on the training rows, score the validation rows.

Only the validation rows have group labels. Also JTTClassifier under scikit-learn's search objects with
the protocol and worst-group scoring.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
import torch
from sklearn.base import clone
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    HalvingGridSearchCV,
    PredefinedSplit,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from torch.utils.data import TensorDataset

from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.exceptions import UnknownGroupLabelsError
from jtt_sklearn.metrics import (
    UNKNOWN_GROUP,
    make_worst_group_scorer,
    worst_group_accuracy,
)
from jtt_sklearn.model_selection import (
    ValidationProtocol,
    make_validation_protocol,
    refit_on_train,
    tune_on_validation,
)

from .._fixtures import ignore_refit_on_validation_rows, noisy_rows, small_protocol

GRID = {"class_weight": [None, {0: 3, 1: 1}, {0: 10, 1: 1}]}


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def make_split(n_train=400, n_val=200, seed=0):
    """Majority group: y = x > 0; minority group (10 %): y = x > 1.5.

    Only the validation rows get group labels, as in JTT's protocol. The
    validation x are evenly spaced so that the group accuracies follow the
    decision threshold without sampling noise.
    """
    rng = np.random.RandomState(seed)
    x_train = rng.uniform(-3, 3, size=n_train)
    minority_train = rng.rand(n_train) < 0.1
    n_minority = max(n_val // 5, 2)
    x_val = np.concatenate([np.linspace(-3, 3, n_val - n_minority), np.linspace(-3, 3, n_minority)])
    minority_val = np.arange(n_val) >= n_val - n_minority

    def label(x, minority):
        return np.where(minority, x > 1.5, x > 0).astype(int)

    def features(x):
        return np.column_stack([x, rng.normal(size=x.shape[0])])

    return (
        features(x_train),
        label(x_train, minority_train),
        features(x_val),
        label(x_val, minority_val),
        minority_val.astype(int),
    )


def test_protocol_layout():
    X_train, y_train, X_val, y_val, groups_val = make_split(n_train=5, n_val=20)
    protocol = make_validation_protocol(X_train, y_train, X_val, y_val, groups_val)
    assert isinstance(protocol, ValidationProtocol)
    X, y, group_labels, cv = protocol
    np.testing.assert_array_equal(X, np.concatenate([X_train, X_val]))
    np.testing.assert_array_equal(y, np.concatenate([y_train, y_val]))
    np.testing.assert_array_equal(group_labels[:5], UNKNOWN_GROUP)
    np.testing.assert_array_equal(group_labels[5:], groups_val)
    assert group_labels.dtype == np.int64
    assert isinstance(cv, PredefinedSplit)
    [(train, test)] = list(cv.split())
    np.testing.assert_array_equal(train, np.arange(5))
    np.testing.assert_array_equal(test, np.arange(5, 25))


def test_search_trains_on_train_rows_and_scores_validation_rows(routing):
    X_train, y_train, X_val, y_val, groups_val = make_split()
    X, y, group_labels, cv = make_validation_protocol(X_train, y_train, X_val, y_val, groups_val)
    estimator = LogisticRegression(C=100)
    # LogisticRegression.fit takes no group_labels: the training rows never need them.
    search = GridSearchCV(
        estimator,
        GRID,
        cv=cv,
        scoring=make_worst_group_scorer(),
        error_score="raise",
        refit=False,
    ).fit(X, y, group_labels=group_labels)

    for index, params in enumerate(search.cv_results_["params"]):
        model = clone(estimator).set_params(**params).fit(X_train, y_train)
        expected = worst_group_accuracy(y_val, model.predict(X_val), group_labels=groups_val)
        assert search.cv_results_["split0_test_score"][index] == expected
    assert search.best_params_ == {"class_weight": {0: 10, 1: 1}}

    model = refit_on_train(search, X_train, y_train)
    reference = LogisticRegression(C=100, class_weight={0: 10, 1: 1}).fit(X_train, y_train)
    np.testing.assert_allclose(model.coef_, reference.coef_)


def test_default_refit_uses_all_rows(routing):
    # Documented behaviour: GridSearchCV's own refit includes the validation rows.
    X_train, y_train, X_val, y_val, groups_val = make_split()
    X, y, group_labels, cv = make_validation_protocol(X_train, y_train, X_val, y_val, groups_val)
    search = GridSearchCV(LogisticRegression(C=100), GRID, cv=cv, scoring=make_worst_group_scorer())
    # ... and says so, naming the fix.
    with pytest.warns(
        UserWarning, match=r"GridSearchCV\(refit=True\) on make_validation_protocol's rows.*refit_on_train"
    ):
        search.fit(X, y, group_labels=group_labels)
    reference = LogisticRegression(C=100, **search.best_params_).fit(X, y)
    np.testing.assert_allclose(search.best_estimator_.coef_, reference.coef_)


def test_multimetric_pipeline_with_pandas(routing):
    X_train, y_train, X_val, y_val, groups_val = make_split()
    columns = ["x", "noise"]
    X_train = pd.DataFrame(X_train, columns=columns, index=np.arange(400) + 1000)
    X_val = pd.DataFrame(X_val, columns=columns, index=np.arange(200) + 1000)
    y_train, y_val = pd.Series(y_train), pd.Series(y_val)
    X, y, group_labels, cv = make_validation_protocol(X_train, y_train, X_val, y_val, pd.Series(groups_val))
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert list(X.columns) == columns
    assert X.index.equals(pd.RangeIndex(600))
    pd.testing.assert_frame_equal(X.iloc[400:].reset_index(drop=True), X_val.reset_index(drop=True))

    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=100))
    grid = {"logisticregression__class_weight": GRID["class_weight"]}
    search = GridSearchCV(
        pipe,
        grid,
        cv=cv,
        scoring={"worst_group": make_worst_group_scorer(), "accuracy": "accuracy"},
        refit="worst_group",
        error_score="raise",
    ).fit(X, y, group_labels=group_labels)
    assert search.best_params_ == {"logisticregression__class_weight": {0: 10, 1: 1}}
    model = refit_on_train(search, X_train, y_train)
    assert model.feature_names_in_.tolist() == columns


def test_sparse_inputs():
    X_train, y_train, X_val, y_val, groups_val = make_split(n_train=6, n_val=20)
    X, _, _, _ = make_validation_protocol(
        sp.csr_matrix(X_train), y_train, sp.csr_matrix(X_val), y_val, groups_val
    )
    assert sp.issparse(X) and X.format == "csr"
    np.testing.assert_array_equal(X.toarray(), np.concatenate([X_train, X_val]))


@pytest.mark.parametrize("fmt", ["dok", "lil", "coo"])
def test_every_sparse_format_is_accepted(fmt):
    # A dok_matrix is a dict subclass: the Dataset/dict refusal must not catch it.
    X_train, y_train, X_val, y_val, groups_val = make_split(n_train=6, n_val=20)
    X, _, _, _ = make_validation_protocol(
        sp.csr_matrix(X_train).asformat(fmt), y_train, sp.csr_matrix(X_val).asformat(fmt), y_val, groups_val
    )
    np.testing.assert_array_equal(X.toarray(), np.concatenate([X_train, X_val]))


def test_lists_are_accepted():
    X, y, group_labels, _ = make_validation_protocol([[0.0], [1.0]], [0, 1], [[2.0], [3.0]], [1, 0], [0, 1])
    np.testing.assert_array_equal(X, [[0.0], [1.0], [2.0], [3.0]])
    np.testing.assert_array_equal(group_labels, [-1, -1, 0, 1])


@pytest.mark.parametrize(
    "changes, error, match",
    [
        ({"y_train": np.zeros(3)}, ValueError, "y_train has 3 rows but X_train has 10"),
        ({"y_val": np.zeros(3)}, ValueError, "y_val has 3 rows but X_val has 20"),
        (
            {"group_labels_val": np.zeros(3, dtype=int)},
            ValueError,
            "group_labels_val has 3 rows but X_val has 20",
        ),
        ({"group_labels_val": np.full(20, -1)}, ValueError, "contains UNKNOWN_GROUP"),
        ({"group_labels_val": np.zeros(20, dtype=int)}, ValueError, "single group"),
        ({"group_labels_val": np.full(20, "a")}, ValueError, "single group"),
        ({"group_labels_val": np.arange(20) / 3}, ValueError, "integers.*or strings"),
        ({"group_labels_val": np.full(20, "<unknown>")}, ValueError, "contains UNKNOWN_GROUP"),
        ({"X_val": np.zeros((20, 3))}, ValueError, "same shape apart from"),
        ({"X_val": pd.DataFrame(np.zeros((20, 2)))}, TypeError, "same type"),
    ],
    ids=[
        "short-y_train",
        "short-y_val",
        "short-group_labels_val",
        "all-unknown",
        "single-int-group",
        "single-str-group",
        "float-groups",
        "all-unknown-names",
        "X_val-shape",
        "X_val-type",
    ],
)
def test_protocol_errors(changes, error, match):
    X_train, y_train, X_val, y_val, groups_val = make_split(n_train=10, n_val=20)
    groups_val = np.arange(20) % 2
    kwargs = dict(
        X_train=X_train,
        y_train=y_train,
        X_val=X_val,
        y_val=y_val,
        group_labels_val=groups_val,
    )
    kwargs.update(changes)
    with pytest.raises(error, match=match):
        make_validation_protocol(**kwargs)


def test_mismatched_dataframe_columns_raise():
    X_train = pd.DataFrame({"a": [0.0, 1.0], "b": [0.0, 1.0]})
    X_val = pd.DataFrame({"b": [0.0, 1.0], "a": [0.0, 1.0]})
    with pytest.raises(ValueError, match="same columns in the same order"):
        make_validation_protocol(X_train, [0, 1], X_val, [0, 1], [0, 1])


@ignore_refit_on_validation_rows
def test_scoring_training_rows_raises(routing):
    # return_train_score would score the training rows, which have no group.
    X_train, y_train, X_val, y_val, groups_val = make_split()
    X, y, group_labels, cv = make_validation_protocol(X_train, y_train, X_val, y_val, groups_val)
    search = GridSearchCV(
        LogisticRegression(),
        GRID,
        cv=cv,
        scoring=make_worst_group_scorer(),
        return_train_score=True,
        error_score="raise",
    )
    with pytest.raises(UnknownGroupLabelsError, match="unknown group UNKNOWN_GROUP"):
        search.fit(X, y, group_labels=group_labels)


def test_refit_on_train_needs_best_params(routing):
    X_train, y_train, X_val, y_val, groups_val = make_split()
    X, y, group_labels, cv = make_validation_protocol(X_train, y_train, X_val, y_val, groups_val)
    search = GridSearchCV(LogisticRegression(), GRID, cv=cv)
    with pytest.raises(ValueError, match="fit it first"):
        refit_on_train(search, X_train, y_train)
    search = GridSearchCV(
        LogisticRegression(),
        GRID,
        cv=cv,
        scoring={"worst_group": make_worst_group_scorer(), "accuracy": "accuracy"},
        refit=False,
    ).fit(X, y, group_labels=group_labels)
    with pytest.raises(ValueError, match="refit='<metric name>'"):
        refit_on_train(search, X_train, y_train)


def test_the_validation_protocol_takes_string_groups_like_the_scorers():
    rng = np.random.RandomState(0)
    X_train, X_val = rng.normal(size=(40, 2)), rng.normal(size=(20, 2))
    y_train, y_val = (X_train[:, 0] > 0).astype(int), (X_val[:, 0] > 0).astype(int)
    groups_val = np.where(X_val[:, 1] > 0, "water", "land")
    X, y, group_labels, cv = make_validation_protocol(X_train, y_train, X_val, y_val, groups_val)
    ((train, test),) = cv.split()
    assert list(group_labels[test]) == list(groups_val)
    predicted = LogisticRegression().fit(X[train], y[train]).predict(X)
    by_hand = min(
        np.mean(predicted[test][groups_val == g] == y_val[groups_val == g]) for g in ("land", "water")
    )
    assert worst_group_accuracy(y[test], predicted[test], group_labels=group_labels[test]) == by_hand
    with pytest.raises(ValueError, match="unknown group"):
        worst_group_accuracy(y, predicted, group_labels=group_labels)


# --- JTTClassifier under scikit-learn's searches, on the protocol's rows --------------------------


JTT_GRID = {"jttclassifier__T": [1, 10], "jttclassifier__lambda_up": [1, 5, 20, 200]}


@pytest.fixture(scope="module")
def digits_protocol():
    """Coloured digits with a validation set drawn like training (few minority rows)."""
    (X_tr, y_tr, _), (X_va, y_va, g_va), _ = load_colored_digits(random_state=0)
    keep = (g_va == 0) | (g_va == 3) | (np.random.RandomState(0).rand(len(g_va)) < 0.15)
    return make_validation_protocol(X_tr, y_tr, X_va[keep], y_va[keep], g_va[keep])


def _pipe():
    return make_pipeline(MinMaxScaler(), JTTClassifier(LogisticRegression(max_iter=500), random_state=0))


def test_worst_group_selection_differs_from_accuracy_selection(routing, digits_protocol):
    X, y, groups, cv = digits_protocol
    search = GridSearchCV(
        _pipe(),
        JTT_GRID,
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
    assert (
        results["mean_test_worst_group"].max()
        > results["mean_test_worst_group"][results["params"].index(by_accuracy)]
    )
    # The scores are the worst-group accuracy of the validation rows only.
    val = groups != -1
    model = make_pipeline(MinMaxScaler(), JTTClassifier(LogisticRegression(max_iter=500), random_state=0))
    model.set_params(**by_worst).fit(X[~val], y[~val])
    expected = worst_group_accuracy(y[val], model.predict(X[val]), group_labels=groups[val])
    assert results["mean_test_worst_group"].max() == pytest.approx(expected)


@ignore_refit_on_validation_rows
def test_randomized_and_halving_searches_and_cross_validate(routing, digits_protocol):
    X, y, groups, cv = digits_protocol
    scorer = make_worst_group_scorer()
    randomized = RandomizedSearchCV(
        _pipe(), JTT_GRID, n_iter=3, cv=cv, scoring=scorer, random_state=0, error_score="raise"
    ).fit(X, y, group_labels=groups)
    assert 0.0 <= randomized.best_score_ <= 1.0
    # Halving needs several folds; use an ordinary 3-fold split with groups known everywhere.
    labelled = groups != -1
    halving = HalvingGridSearchCV(
        _pipe(),
        JTT_GRID,
        cv=3,
        scoring=scorer,
        factor=2,
        min_resources=100,
        random_state=0,
        error_score="raise",
    ).fit(X[labelled], y[labelled], group_labels=groups[labelled])
    assert set(halving.best_params_) == set(JTT_GRID)
    scores = cross_validate(
        _pipe(), X[labelled], y[labelled], cv=3, scoring=scorer, params={"group_labels": groups[labelled]}
    )
    assert np.all((scores["test_score"] >= 0) & (scores["test_score"] <= 1))


def test_group_kfold_on_patient_ids_and_worst_group_on_group_labels(routing, digits_protocol):
    X, y, groups, _ = digits_protocol
    labelled = groups != -1
    X, y, groups = X[labelled], y[labelled], groups[labelled]
    patients = np.arange(len(y)) % 7
    search = GridSearchCV(
        _pipe(),
        {"jttclassifier__lambda_up": [1, 20]},
        cv=GroupKFold(n_splits=3),
        scoring=make_worst_group_scorer(),
        error_score="raise",
    ).fit(X, y, groups=patients, group_labels=groups)
    for split in range(3):
        assert not np.isnan(search.cv_results_[f"split{split}_test_score"]).any()


@pytest.mark.parametrize("refit", [True, False])
def test_refit_true_on_the_protocols_rows_warns_at_the_users_line(refit):
    protocol, _ = small_protocol()
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


def test_the_protocol_refuses_dicts_a_search_cannot_index_with_what_to_do():
    X, y = noisy_rows()
    with pytest.raises(TypeError, match="indexes X by row.*SliceDict"):
        make_validation_protocol({"x": X[:60]}, y[:60], {"x": X[60:]}, y[60:], y[60:] * 2)
    with pytest.raises(TypeError, match="indexes X by row"):
        tune_on_validation(
            JTTClassifier(LogisticRegression()), {"lambda_up": [1]}, {"x": X[:60]}, y[:60], {"x": X[60:]},
            y[60:], y[60:] * 2,
        )  # fmt: skip


def test_the_protocol_stacks_two_tensor_datasets_as_a_view():
    X, y = noisy_rows()
    train, val = TensorDataset(torch.as_tensor(X[:60])), TensorDataset(torch.as_tensor(X[60:]))
    protocol = make_validation_protocol(train, y[:60], val, y[60:], y[60:] * 2)
    assert len(protocol.X) == len(X) and protocol.X[np.arange(60, 62)][1].shape == X[61].shape
    np.testing.assert_array_equal(protocol.y, y)
