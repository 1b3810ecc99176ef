"""The README's "Bring your own data" paragraph: the calls it spells out run as written."""

import re
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

README = Path(__file__).resolve().parents[1] / "README.md"


def _section():
    text = README.read_text(encoding="utf-8")
    start = text.index("## Bring your own data")
    return text[start:text.index("\n## ", start + 1)]


def _inline_code(section):
    return [code.replace("\n", " ") for code in re.findall(r"`([^`]+)`", section)]


def test_the_paragraph_names_the_generator_and_the_tuning_call():
    codes = _inline_code(_section())
    assert any(c.startswith("jtt_sklearn.datasets.make_spurious_features(") for c in codes)
    assert any(c.startswith("model, search = tune_on_validation(") for c in codes)
    assert any(c.startswith("g_val = make_groups(") for c in codes)


def test_the_calls_of_the_paragraph_run_and_tune_on_the_validation_groups():
    import jtt_sklearn.datasets
    from jtt_sklearn import JTTClassifier
    from jtt_sklearn.metrics import make_groups
    from jtt_sklearn.model_selection import tune_on_validation

    codes = _inline_code(_section())
    (generate,) = [c for c in codes if c.startswith("jtt_sklearn.datasets.make_spurious_features(")]
    (groups,) = [c for c in codes if c.startswith("g_val = make_groups(")]
    (tune,) = [c for c in codes if c.startswith("model, search = tune_on_validation(")]

    # The signature the README gives is the real one: eval it as written.
    splits = eval(generate, {"jtt_sklearn": jtt_sklearn})
    (X_train, y_train, _), (X_val, y_val, g_expected), _ = splits
    assert len(X_train) == 2000 and len(X_val) == 400

    # make_groups on the label and the attribute gives the loaders' group ids (y * 2 + a).
    attribute_val = g_expected % 2
    namespace = {"make_groups": make_groups, "y_val": y_val, "attribute_val": attribute_val}
    exec(groups, namespace)
    np.testing.assert_array_equal(namespace["g_val"], g_expected)

    namespace.update(tune_on_validation=tune_on_validation, JTTClassifier=JTTClassifier,
                     base=LogisticRegression(max_iter=200), X_train=X_train, y_train=y_train, X_val=X_val)
    grid_call = tune.replace('"T": [...]', '"T": [1, 3]')
    grid_call = grid_call.replace('"lambda_up": [...]', '"lambda_up": [1, 20]')
    assert "[...]" not in grid_call
    exec(grid_call, namespace)
    assert set(namespace["search"].best_params_) == {"T", "lambda_up"}
    assert namespace["model"].error_set_.size > 0
    assert len(namespace["search"].cv_results_["params"]) == 4
