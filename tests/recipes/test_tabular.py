"""make_tabular_net: an MLP for tabular rows, float64 or float32 alike."""

import numpy as np

from jtt_sklearn.recipes import make_tabular_net
from jtt_sklearn.utils._seeding import seeded_torch


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
