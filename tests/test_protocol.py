import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
)

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
    x_val = np.concatenate(
        [np.linspace(-3, 3, n_val - n_minority), np.linspace(-3, 3, n_minority)]
    )
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
    X, y, group_labels, cv = make_validation_protocol(
        X_train, y_train, X_val, y_val, groups_val
    )
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
        expected = worst_group_accuracy(
            y_val, model.predict(X_val), group_labels=groups_val
        )
        assert search.cv_results_["split0_test_score"][index] == expected
    assert search.best_params_ == {"class_weight": {0: 10, 1: 1}}

    model = refit_on_train(search, X_train, y_train)
    reference = LogisticRegression(C=100, class_weight={0: 10, 1: 1}).fit(
        X_train, y_train
    )
    np.testing.assert_allclose(model.coef_, reference.coef_)


def test_default_refit_uses_all_rows(routing):
    # Documented behaviour: GridSearchCV's own refit includes the validation rows.
    X_train, y_train, X_val, y_val, groups_val = make_split()
    X, y, group_labels, cv = make_validation_protocol(
        X_train, y_train, X_val, y_val, groups_val
    )
    search = GridSearchCV(
        LogisticRegression(C=100), GRID, cv=cv, scoring=make_worst_group_scorer()
    ).fit(X, y, group_labels=group_labels)
    reference = LogisticRegression(C=100, **search.best_params_).fit(X, y)
    np.testing.assert_allclose(search.best_estimator_.coef_, reference.coef_)


def test_multimetric_pipeline_with_pandas(routing):
    X_train, y_train, X_val, y_val, groups_val = make_split()
    columns = ["x", "noise"]
    X_train = pd.DataFrame(X_train, columns=columns, index=np.arange(400) + 1000)
    X_val = pd.DataFrame(X_val, columns=columns, index=np.arange(200) + 1000)
    y_train, y_val = pd.Series(y_train), pd.Series(y_val)
    X, y, group_labels, cv = make_validation_protocol(
        X_train, y_train, X_val, y_val, pd.Series(groups_val)
    )
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert list(X.columns) == columns
    assert X.index.equals(pd.RangeIndex(600))
    pd.testing.assert_frame_equal(
        X.iloc[400:].reset_index(drop=True), X_val.reset_index(drop=True)
    )

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


def test_lists_are_accepted():
    X, y, group_labels, _ = make_validation_protocol(
        [[0.0], [1.0]], [0, 1], [[2.0], [3.0]], [1, 0], [0, 1]
    )
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


def test_scoring_training_rows_raises(routing):
    # return_train_score would score the training rows, which have no group.
    X_train, y_train, X_val, y_val, groups_val = make_split()
    X, y, group_labels, cv = make_validation_protocol(
        X_train, y_train, X_val, y_val, groups_val
    )
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
    X, y, group_labels, cv = make_validation_protocol(
        X_train, y_train, X_val, y_val, groups_val
    )
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


def test_tune_on_validation_says_who_needs_training_groups():
    import numpy as np
    import pytest
    from sklearn.linear_model import LogisticRegression

    from jtt_sklearn import JTTClassifier
    from jtt_sklearn.baselines import GroupBalancedClassifier
    from jtt_sklearn.model_selection import tune_on_validation

    rng = np.random.RandomState(0)
    X, X_val = rng.normal(size=(60, 2)), rng.normal(size=(40, 2))
    y, y_val = (X[:, 0] > 0).astype(int), (X_val[:, 0] > 0).astype(int)
    g, g_val = 2 * y + (X[:, 1] > 0), 2 * y_val + (X_val[:, 1] > 0)
    with pytest.raises(ValueError, match="drop the argument"):
        tune_on_validation(JTTClassifier(), {"lambda_up": [1, 5]}, X, y, X_val, y_val, g_val, train_group_labels=g)
    with pytest.raises(ValueError, match="pass train_group_labels"):
        tune_on_validation(GroupBalancedClassifier(LogisticRegression()), {}, X, y, X_val, y_val, g_val)
    model, search = tune_on_validation(
        GroupBalancedClassifier(LogisticRegression()), {"upsampling": ["auto"]}, X, y, X_val, y_val, g_val,
        train_group_labels=g,
    )
    assert model.sample_multiplicity_.shape == (60,)
