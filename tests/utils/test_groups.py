"""make_groups: missing values are refused, and fixed classes and attribute values pin the ids."""

import numpy as np
import pandas as pd
import pytest

from jtt_sklearn.metrics import group_report, make_groups

Y = [0, 0, 1, 1]
ATTRIBUTE = ["land", "water", "land", "water"]


@pytest.mark.parametrize(
    "y, attribute, name, row",
    [
        # A NaN attribute used to become a third value and renumber the others.
        ([0, 0, 1, 1, 0], [0.0, 1.0, 0.0, 1.0, np.nan], "attribute", 4),
        # A NaN label used to become a class (and groups) of its own.
        ([0, 0, 1, np.nan], [0, 1, 0, 1], "y", 3),
        # None and pd.NA used to raise numpy's or pandas' TypeError from sorting.
        ([0, 0, 1, 1], ["land", "water", None, "land"], "attribute", 2),
        ([0, 0, 1, 1], pd.Series(["land", "water", pd.NA, "land"], dtype=object), "attribute", 2),
        ([0, 0, 1, 1], pd.Series(["land", "water", None, "land"], dtype="string"), "attribute", 2),
        ([0, 0, 1, 1], pd.array([0, 1, pd.NA, 1], dtype="Int64"), "attribute", 2),
        (pd.Series(["a", None, "b", "b"]), [0, 1, 0, 1], "y", 1),
        ([0, 0, 1, 1], pd.to_datetime(["2020", "2021", None, "2020"]), "attribute", 2),
    ],
)
def test_missing_values_are_refused_with_what_to_do(y, attribute, name, row):
    message = rf"^{name} has 1 missing value .*first at row {row}\..*drop those rows"
    with pytest.raises(ValueError, match=message):
        make_groups(y, attribute)


def test_missing_values_are_refused_in_the_given_classes_too():
    with pytest.raises(ValueError, match="^classes has 1 missing value"):
        make_groups(Y, ATTRIBUTE, classes=[0, 1, None])


def test_default_ids_are_the_sorted_values_present():
    np.testing.assert_array_equal(make_groups(Y, ATTRIBUTE), [0, 1, 2, 3])
    np.testing.assert_array_equal(make_groups(["b", "a"], [2, 1]), [3, 0])
    # Without the keywords a split lacking a value renumbers: the behaviour the keywords fix.
    np.testing.assert_array_equal(make_groups([0, 1], ["water", "water"]), [0, 1])


def test_fixed_classes_and_values_give_every_split_the_same_ids():
    fixed = dict(classes=[0, 1], attribute_values=["land", "water"])
    validation = make_groups(Y, ATTRIBUTE, **fixed)
    # The test split has no land birds at all; its (class, water) rows keep the validation ids.
    test = make_groups([0, 1, 1], ["water", "water", "water"], **fixed)
    np.testing.assert_array_equal(validation, [0, 1, 2, 3])
    np.testing.assert_array_equal(test, [1, 3, 3])
    # Also a split that lacks a class.
    np.testing.assert_array_equal(make_groups([1, 1], ["land", "water"], **fixed), [2, 3])


def test_ids_follow_the_order_given():
    groups = make_groups(Y, ATTRIBUTE, classes=[1, 0], attribute_values=["water", "land"])
    np.testing.assert_array_equal(groups, [3, 2, 1, 0])


def test_values_outside_the_given_ones_or_repeated_ones_are_refused():
    message = r"attribute holds values that are not in attribute_values: \['water'\]"
    with pytest.raises(ValueError, match=message):
        make_groups(Y, ATTRIBUTE, attribute_values=["land"])
    with pytest.raises(ValueError, match=r"y holds values that are not in classes: \[1\]"):
        make_groups(Y, ATTRIBUTE, classes=[0, 2])
    with pytest.raises(ValueError, match="classes must not repeat a value"):
        make_groups(Y, ATTRIBUTE, classes=[0, 1, 1])


def test_names_follow_the_ids_and_name_the_groups_of_group_report():
    groups, names = make_groups(
        [0, 1, 1], ["water", "water", "water"], classes=[0, 1], attribute_values=["land", "water"],
        return_names=True,
    )
    assert names == ("y=0, land", "y=0, water", "y=1, land", "y=1, water")
    report = group_report([0, 1, 0], [0, 1, 1], group_labels=groups, group_names=names, output_dict=True)
    assert report["y=0, water"]["accuracy"] == 1.0 and report["y=1, water"]["accuracy"] == 0.5
    # By default the names are those of the values present, in sorted order.
    groups, names = make_groups(["b", "a"], [2, 1], return_names=True)
    assert names == ("y=a, 1", "y=a, 2", "y=b, 1", "y=b, 2") and names[groups[0]] == "y=b, 2"
