"""make_tabular_net: an MLP for tabular rows, float64 or float32 alike."""

import numpy as np

from jtt_sklearn.recipes import make_tabular_net
from jtt_sklearn.utils._seeding import seeded_torch

from .._fixtures import ignore_weak_identifier


def test_tabular_net_takes_float64_rows_as_scikit_learn_passes_them():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6))
    y = (X[:, 0] > 0).astype(np.int64)
    predictions = {}
    for dtype in (np.float64, np.float32):
        with seeded_torch(0):
            net = make_tabular_net(6, max_epochs=3).fit(X.astype(dtype), y)
        predictions[dtype] = net.predict_proba(X.astype(dtype))
    # The float64 rows are cast to float32 inside the module, so the two fits are the same fit.
    np.testing.assert_array_equal(predictions[np.float64], predictions[np.float32])
    assert predictions[np.float32].dtype == np.float32


def test_make_tabular_net_docstring_example_runs_without_warnings():
    import doctest
    import warnings

    from jtt_sklearn.recipes import _tabular

    finder = doctest.DocTestFinder()
    (test,) = [t for t in finder.find(_tabular) if t.name.endswith("make_tabular_net")]
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # WeakIdentifierWarning, ConvergenceWarning, ... would fail it
        result = runner.run(test, out=lambda text: None)
    assert result.attempted >= 5 and result.failed == 0


def _frame(n=240, seed=0):
    import pandas as pd

    rng = np.random.RandomState(seed)
    df = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "priors": rng.poisson(2, n).astype(float),
            "city": rng.choice(["north", "south", "east", "west"], n),
            "degree": rng.choice(["F", "M"], n),
        }
    )
    y = ((df["age"] > 40) ^ (df["city"] == "north")).to_numpy().astype(np.int64)
    return df, y


def _recipes_md_block(heading):
    """The first python block after ``heading`` in docs/recipes.md: the test runs what the docs show."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "recipes.md").read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_docs_column_transformer_pipeline_runs_without_the_feature_width():
    import warnings

    import torch

    df, y = _frame()
    code = _recipes_md_block("## Right after a ColumnTransformer")
    assert "make_tabular_net(" in code and "X.shape" not in code  # no width computed by the user
    fitted = []
    for torch_seed in (1, 2):  # the global torch RNG differs; random_state alone decides the weights
        namespace = {"df": df, "y": y}
        torch.manual_seed(torch_seed)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(code, namespace)
        fitted.append(namespace["clf"])
    width = fitted[0][:-1].transform(df).shape[1]  # 4 cities + 2 degrees + 2 numbers
    assert width == 8
    first = fitted[0][-1].final_estimator_.module_.layers[0]
    assert first.weight.shape == (64, width)  # the lazy layer took its width from the data
    np.testing.assert_array_equal(fitted[0].predict_proba(df), fitted[1].predict_proba(df))
    assert fitted[0].score(df, y) > 0.75


@ignore_weak_identifier  # a one-epoch stage 1 on 120 rows: the error set is not the point here
def test_a_lazy_first_layer_survives_clone_pickle_and_the_output_width_check():
    import pickle

    import pytest
    from sklearn.base import clone

    from jtt_sklearn import JTTClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=120) > 0).astype(np.int64)  # noisy: stage 1 makes errors
    clf = JTTClassifier(make_tabular_net(max_epochs=3), T=1, lambda_up=4, random_state=0).fit(X, y)
    assert clf.identifier_.module_.layers[0].weight.shape == (64, 5)
    refit = clone(clf).fit(X, y)  # a clone starts again from an unmaterialised layer
    np.testing.assert_array_equal(refit.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X))
    # A wider input after a refit: the fresh module takes the new width.
    wide = np.hstack([X, X])
    assert clone(clf).fit(wide, y).final_estimator_.module_.layers[0].weight.shape == (64, 10)
    with pytest.raises(ValueError, match="returns 2 outputs per row, but y has 3 classes"):
        JTTClassifier(make_tabular_net(max_epochs=1), T=1, random_state=0).fit(X, np.arange(120) % 3)
