"""tune_on_validation: one search on the protocol's split, its progress lines, and the scoring it picks."""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression

from jtt_sklearn import JTTClassifier
from jtt_sklearn.baselines import GroupBalancedClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.metrics import worst_class_accuracy
from jtt_sklearn.model_selection import tune_on_validation


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


TUNE_GRID = {"T": [1, 2], "lambda_up": [1, 5, 20]}


@pytest.fixture(scope="module")
def digits():
    (X, y, _), (X_val, y_val, g_val), _ = load_colored_digits(random_state=0)
    return X, y, X_val, y_val, g_val


def _jtt():
    return JTTClassifier(LogisticRegression(max_iter=300), random_state=0)


def test_tune_on_validation_prints_each_candidate_and_the_choice(routing, digits, capsys):
    model, search = tune_on_validation(_jtt(), TUNE_GRID, *digits, verbose=1)
    out = capsys.readouterr().out
    lines = out.splitlines()
    n_val = len(digits[3])
    assert lines[0] == (
        "[tune_on_validation] 6 candidates, shown as [CV 1/1; k/N]; scoring each by worst-group "
        f"accuracy on the {n_val} validation "
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


def test_tune_on_validation_is_silent_by_default(routing, digits, capsys):
    tune_on_validation(_jtt(), TUNE_GRID, *digits)
    assert capsys.readouterr().out == ""


def test_verbose_tuning_in_parallel_chooses_the_same(routing, digits, capsys):
    _, sequential = tune_on_validation(_jtt(), TUNE_GRID, *digits)
    model, parallel = tune_on_validation(_jtt(), TUNE_GRID, *digits, verbose=1, n_jobs=2)
    assert parallel.best_params_ == sequential.best_params_
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"]
    )
    assert f"chose candidate {parallel.best_index_ + 1}/6" in capsys.readouterr().out


def test_without_validation_groups_selection_is_by_worst_class_accuracy(routing, digits, capsys):
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
    np.testing.assert_array_equal(
        model.predict(X_val), _jtt().set_params(**search.best_params_).fit(X, y).predict(X_val)
    )
    out = capsys.readouterr().out
    assert "by worst-class accuracy" in out and "no group_labels_val" in out
    assert f"(worst-class accuracy {search.best_score_:.3f})" in out


def test_group_labels_val_stays_the_seventh_positional_argument(routing, digits):
    X, y, X_val, y_val, g_val = digits
    _, positional = tune_on_validation(_jtt(), {"lambda_up": [1, 50]}, X, y, X_val, y_val, g_val)
    _, keyword = tune_on_validation(
        _jtt(), {"lambda_up": [1, 50]}, X, y, X_val, y_val, group_labels_val=g_val
    )
    assert "worst_group_accuracy" in repr(positional.scoring)
    assert positional.best_params_ == keyword.best_params_
    np.testing.assert_array_equal(
        positional.cv_results_["mean_test_score"], keyword.cv_results_["mean_test_score"]
    )


def test_worst_class_tuning_needs_two_validation_classes(routing, digits):
    X, y, X_val, y_val, _ = digits
    with pytest.raises(ValueError, match="y_val holds a single class"):
        tune_on_validation(_jtt(), {"lambda_up": [1, 5]}, X, y, X_val[y_val == 1], y_val[y_val == 1])


def test_an_oracle_tunes_without_validation_groups(routing, digits):
    X, y, X_val, y_val, _ = digits
    (_, _, g), _, _ = load_colored_digits(random_state=0)
    model, search = tune_on_validation(
        GroupBalancedClassifier(LogisticRegression(max_iter=300)),
        {"upsampling": ["auto", "index"]},
        X,
        y,
        X_val,
        y_val,
        train_group_labels=g,
    )
    assert "worst_class_accuracy" in repr(search.scoring)
    expected = GroupBalancedClassifier(LogisticRegression(max_iter=300), **search.best_params_).fit(
        X, y, group_labels=g
    )
    np.testing.assert_array_equal(model.sample_multiplicity_, expected.sample_multiplicity_)


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
        tune_on_validation(
            JTTClassifier(), {"lambda_up": [1, 5]}, X, y, X_val, y_val, g_val, train_group_labels=g
        )
    with pytest.raises(ValueError, match="pass train_group_labels"):
        tune_on_validation(GroupBalancedClassifier(LogisticRegression()), {}, X, y, X_val, y_val, g_val)
    model, search = tune_on_validation(
        GroupBalancedClassifier(LogisticRegression()),
        {"upsampling": ["auto"]},
        X,
        y,
        X_val,
        y_val,
        g_val,
        train_group_labels=g,
    )
    assert model.sample_multiplicity_.shape == (60,)
