"""Successive halving over the final model's epochs: stage 1 stays at T and is shared."""

from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import HalvingGridSearchCV

from jtt_sklearn import JTTClassifier
from jtt_sklearn.metrics import make_worst_group_scorer
from jtt_sklearn.model_selection import (
    make_validation_protocol,
    refit_on_train,
    tune_on_validation,
)

from .._fixtures import ignore_convergence, small_protocol
from .._nets import EPOCHS_TRAINED, CountEpochs, make_net


@pytest.fixture
def protocol_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 4)).astype(np.float32)
    attribute = rng.rand(240) < 0.5
    y = ((X[:, 0] + 1.5 * attribute * (2 * (X[:, 1] > 0) - 1)) > 0).astype(np.int64)
    groups = 2 * y + attribute
    return (X[:160], y[:160]), (X[160:], y[160:], groups[160:])


def _halving(jtt, **params):
    return HalvingGridSearchCV(
        jtt,
        {"T": [1, 2], "lambda_up": [1, 5, 20]},
        resource="base_estimator__max_epochs",
        min_resources=2,
        max_resources=6,
        factor=3,
        return_train_score=False,
        scoring=make_worst_group_scorer(),
        refit=False,
        error_score="raise",
        **params,
    )


@pytest.mark.parametrize("T_grid", [None, [1, 2]], ids=["memory", "memory+T_grid"])
def test_halving_rounds_share_stage_1_and_train_it_for_T_epochs(protocol_data, tmp_path, T_grid):
    (X_train, y_train), (X_val, y_val, g_val) = protocol_data
    X, y, group_labels, cv = make_validation_protocol(X_train, y_train, X_val, y_val, g_val)
    EPOCHS_TRAINED.clear()
    jtt = JTTClassifier(
        make_net(max_epochs=6),
        memory=tmp_path,
        T_grid=T_grid,
        random_state=0,
        identifier_params={"callbacks": [CountEpochs()]},
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search = _halving(jtt, cv=cv).fit(X, y, group_labels=group_labels)
    assert search.n_iterations_ == 2  # 6 candidates at 2 epochs, then 2 at 6
    # One identification run per T (or one for all T with T_grid), whatever the round's final length.
    stage_1 = [p for p in Path(tmp_path).rglob("output.pkl") if "_identification" in str(p)]
    assert len(stage_1) == (1 if T_grid else 2)
    assert EPOCHS_TRAINED == ([1, 2] if T_grid else [1, 1, 2])
    model = refit_on_train(search, X_train, y_train)
    assert model.final_estimator_.max_epochs == search.best_params_["base_estimator__max_epochs"]
    assert len(model.identifier_.history) == search.best_params_["T"]


def test_halving_prunes_the_final_models_and_keeps_final_params_length(protocol_data, tmp_path):
    (X_train, y_train), (X_val, y_val, g_val) = protocol_data
    EPOCHS_TRAINED.clear()
    jtt = JTTClassifier(
        make_net(max_epochs=50),
        memory=tmp_path,
        T_grid=[1, 2],
        random_state=0,
        final_params={"max_epochs": 9, "lr": 0.05},
    )
    model, search = tune_on_validation(
        jtt,
        {"T": [1, 2], "lambda_up": [1, 5, 20]},
        X_train,
        y_train,
        X_val,
        y_val,
        g_val,
        search="halving",
    )
    assert isinstance(search, HalvingGridSearchCV)
    # Rounds three times longer each, ending at final_params' 9 epochs; 6 candidates need two.
    assert search.n_resources_ == [3, 9] and search.max_resources_ == 9
    assert search.n_candidates_ == [6, 2]
    assert model.final_estimator_.max_epochs == search.best_params_["base_estimator__max_epochs"]
    assert model.final_estimator_.lr == 0.05  # the rest of final_params still applies
    assert len(model.identifier_.history) == search.best_params_["T"]


def test_halving_refuses_what_it_cannot_vary(protocol_data):
    (X_train, y_train), (X_val, y_val, g_val) = protocol_data
    args = (X_train, y_train, X_val, y_val, g_val)
    with pytest.raises(ValueError, match="T=None"):
        tune_on_validation(JTTClassifier(make_net()), {"T": [None, 1]}, *args, search="halving")
    with pytest.raises(ValueError, match="'grid' or 'halving'"):
        tune_on_validation(JTTClassifier(make_net()), {"T": [1]}, *args, search="random")
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="no base_estimator"):
        tune_on_validation(LogisticRegression(), {"C": [1.0]}, *args, search="halving")
    for factor in (1, 2.5, True):
        with pytest.raises(ValueError, match="factor must be an integer of at least 2"):
            tune_on_validation(JTTClassifier(make_net()), {"T": [1]}, *args, search="halving", factor=factor)
    with pytest.raises(ValueError, match="search='grid' does not do"):
        tune_on_validation(JTTClassifier(make_net()), {"T": [1]}, *args, factor=9)


@ignore_convergence
def test_refit_after_halving_trains_at_the_configured_length():
    protocol, (X_train, y_train) = small_protocol()
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


@ignore_convergence
@pytest.mark.parametrize(
    "length, factor, rounds, candidates",
    [(27, None, [3, 9, 27], [12, 4, 2]), (24, None, [8, 8, 24], [12, 4, 2]), (27, 9, [3, 27], [12, 2])],
    ids=["27-epochs", "24-epochs", "27-factor-9"],
)
def test_last_halving_round_and_refit_train_at_the_configured_length(length, factor, rounds, candidates):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    y = ((X[:, 0] + 0.5 * rng.normal(size=150)) > 0).astype(int)
    g = 2 * y + (X[:, 1] > 0)
    grid = {"T": [1, 2, 5], "lambda_up": [1, 5, 20, 50]}  # 12 candidates: three rounds of factor 3
    jtt = JTTClassifier(LogisticRegression(max_iter=length), random_state=0)
    model, search = tune_on_validation(
        jtt, grid, X[:100], y[:100], X[100:], y[100:], g[100:], search="halving", factor=factor
    )
    assert search.n_resources_ == rounds and search.n_candidates_ == candidates
    assert model.base_estimator.max_iter == length


def test_a_length_no_power_of_the_factor_divides_warns():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    y = ((X[:, 0] + 0.5 * rng.normal(size=150)) > 0).astype(int)
    g = 2 * y + (X[:, 1] > 0)
    jtt = JTTClassifier(LogisticRegression(max_iter=25), random_state=0)
    with pytest.warns(UserWarning, match="No power of factor=3 divides"):
        tune_on_validation(
            jtt,
            {"T": [1, 2, 5], "lambda_up": [1, 5, 20, 50]},
            X[:100],
            y[:100],
            X[100:],
            y[100:],
            g[100:],
            search="halving",
        )
