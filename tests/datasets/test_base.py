"""What every loader shares: the split types, group ids, split plans, metadata columns, docstring examples."""

import doctest
import importlib

import numpy as np
import pytest

from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.datasets._base import _group_ids, _injected_attribute_splits
from jtt_sklearn.utils._groups import make_groups


def test_splits_unpack_as_three_and_nested():
    splits = load_colored_digits()
    train, val, test = splits
    (X_tr, y_tr, g_tr), (X_va, y_va, g_va), (X_te, y_te, g_te) = splits
    assert train is splits.train and val is splits.validation and test is splits.test
    assert splits[0] is splits.train and len(splits) == 3
    assert X_tr is train.X and y_va is val.y and g_te is test.group_labels
    assert "colored_digits" in repr(splits) and "train=" in repr(splits)


def test_group_ids_match_make_groups_and_stay_fixed():
    y = np.array([0, 0, 1, 1, 0])
    a = np.array([0, 1, 0, 1, 1])
    np.testing.assert_array_equal(_group_ids(y, a, 2, 2), make_groups(y, a))
    # A split holding only attribute 1 must keep the ids of the full data.
    np.testing.assert_array_equal(_group_ids([0, 1], [1, 1], 2, 2), [1, 3])


def test_injected_plan_never_shares_an_item_between_splits():
    rng = np.random.RandomState(0)
    y = np.arange(200) % 2
    plan = _injected_attribute_splits(
        y, np.arange(200) % 10, spurious_strength=0.9, validation_size=0.2,
        test_size=0.3, n_attributes=2, rng=rng,
    )  # fmt: skip
    items = {name: set(idx.tolist()) for name, (idx, _) in plan.items()}
    assert not items["train"] & items["validation"]
    assert not items["train"] & items["test"]
    assert not items["validation"] & items["test"]
    assert len(plan["train"][0]) == len(items["train"])  # once each in train
    for name in ("validation", "test"):
        idx, attr = plan[name]
        # every item appears once per attribute value
        assert sorted(idx[attr == 0].tolist()) == sorted(idx[attr == 1].tolist())


@pytest.mark.parametrize("cell", ["1.5", "inf", "nan"])
def test_non_integer_metadata_names_the_file_and_column(tmp_path, cell):
    from jtt_sklearn.datasets._base import _int_column

    path = tmp_path / "metadata.csv"
    with pytest.raises(ValueError, match=rf"metadata\.csv.*'y'.*{cell}"):
        _int_column(["0", "1", cell], path, "y")
    np.testing.assert_array_equal(_int_column(["0", "1.0", "-1"], path, "y"), [0, 1, -1])


@pytest.mark.parametrize(
    "module",
    ["_base", "_colored_digits", "_synthetic", "_text_benchmarks", "_waterbirds"],
)
def test_docstring_examples(module):
    mod = importlib.import_module(f"jtt_sklearn.datasets.{module}")
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(verbose=False)
    for test in finder.find(mod):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
