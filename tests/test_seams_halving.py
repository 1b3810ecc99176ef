"""Successive halving through tune_on_validation ends its rounds at the configured length."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from jtt_sklearn import JTTClassifier
from jtt_sklearn.model_selection import tune_on_validation


@pytest.mark.parametrize("length, rounds", [(27, [3, 9, 27]), (24, [8, 8, 24])])
def test_the_last_halving_round_and_the_refit_train_at_the_configured_length(length, rounds):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    y = ((X[:, 0] + 0.5 * rng.normal(size=150)) > 0).astype(int)
    g = 2 * y + (X[:, 1] > 0)
    grid = {"T": [1, 2, 5], "lambda_up": [1, 5, 20, 50]}  # 12 candidates: three rounds of factor 3
    jtt = JTTClassifier(LogisticRegression(max_iter=length), random_state=0)
    model, search = tune_on_validation(jtt, grid, X[:100], y[:100], X[100:], y[100:], g[100:], search="halving")
    assert search.n_resources_ == rounds
    assert model.base_estimator.max_iter == length


def test_a_length_no_power_of_the_factor_divides_warns():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    y = ((X[:, 0] + 0.5 * rng.normal(size=150)) > 0).astype(int)
    g = 2 * y + (X[:, 1] > 0)
    jtt = JTTClassifier(LogisticRegression(max_iter=25), random_state=0)
    with pytest.warns(UserWarning, match="No power of factor=3 divides"):
        tune_on_validation(jtt, {"T": [1, 2, 5], "lambda_up": [1, 5, 20, 50]}, X[:100], y[:100], X[100:],
                           y[100:], g[100:], search="halving")
