"""Group metrics: per-group, worst-group, mean, weighted and worst-class accuracy, and group_report."""

import re

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame
from sklearn.metrics import accuracy_score, recall_score

from jtt_sklearn.metrics import (
    UNKNOWN_GROUP,
    GroupAccuracy,
    group_accuracies,
    group_proportions,
    group_report,
    make_groups,
    mean_group_accuracy,
    weighted_group_accuracy,
    worst_class_accuracy,
    worst_group_accuracy,
)
from jtt_sklearn.utils import _groups


def _random_inputs(seed, n_classes=2, n_groups=4, n_samples=300):
    rng = np.random.RandomState(seed)
    y_true = rng.randint(n_classes, size=n_samples)
    # Predictions right with a group-dependent probability, so groups differ.
    groups = rng.randint(n_groups, size=n_samples)
    right = rng.rand(n_samples) < np.linspace(0.5, 0.95, n_groups)[groups]
    y_pred = np.where(right, y_true, (y_true + 1) % n_classes)
    sample_weight = rng.uniform(0.1, 2.0, size=n_samples)
    return y_true, y_pred, groups, sample_weight


def _metric_frame(y_true, y_pred, groups, sample_weight):
    sample_params = None if sample_weight is None else {"sample_weight": sample_weight}
    return MetricFrame(
        metrics=accuracy_score,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups,
        sample_params=sample_params,
    )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_metrics_match_fairlearn(seed, weighted, n_classes):
    y_true, y_pred, groups, weights = _random_inputs(seed, n_classes=n_classes)
    sample_weight = weights if weighted else None
    frame = _metric_frame(y_true, y_pred, groups, sample_weight)

    per_group = group_accuracies(y_true, y_pred, group_labels=groups, sample_weight=sample_weight)
    assert list(per_group) == list(frame.by_group.index)
    np.testing.assert_allclose([result.accuracy for result in per_group.values()], frame.by_group.to_numpy())
    assert [result.n_samples for result in per_group.values()] == [
        int(np.sum(groups == g)) for g in per_group
    ]
    kwargs = dict(group_labels=groups, sample_weight=sample_weight)
    assert worst_group_accuracy(y_true, y_pred, **kwargs) == pytest.approx(frame.group_min())
    assert mean_group_accuracy(y_true, y_pred, **kwargs) == pytest.approx(frame.by_group.mean())
    report = group_report(y_true, y_pred, output_dict=True, **kwargs)
    assert report["overall"]["accuracy"] == pytest.approx(frame.overall)
    assert report["worst_group"]["accuracy"] == pytest.approx(frame.group_min())
    assert report["worst_group"]["group"] == frame.by_group.idxmin()


@pytest.mark.parametrize("seed", range(3))
def test_weighted_group_accuracy_matches_fairlearn(seed):
    y_true, y_pred, groups, _ = _random_inputs(seed)
    train_groups = np.random.RandomState(seed + 100).choice(4, size=500, p=[0.7, 0.2, 0.05, 0.05])
    weights = group_proportions(train_groups)
    frame = _metric_frame(y_true, y_pred, groups, None)
    expected = sum(weights[g] * frame.by_group[g] for g in weights)
    assert weighted_group_accuracy(
        y_true, y_pred, group_labels=groups, group_weights=weights
    ) == pytest.approx(expected)


def test_group_accuracies_return_type():
    result = group_accuracies([0, 1, 1, 0], [0, 1, 0, 0], group_labels=[1, 1, 0, 0])
    assert result == {0: (0.5, 2), 1: (1.0, 2)}
    assert isinstance(result[0], GroupAccuracy)
    assert type(result[0].accuracy) is float
    assert type(result[0].n_samples) is int
    assert all(type(group) is int for group in result)


def test_string_group_labels_and_string_classes():
    groups = np.array(["water", "land", "land", "water"], dtype=object)
    result = group_accuracies(["a", "b", "a", "b"], ["a", "b", "b", "a"], group_labels=groups)
    assert result == {"land": (0.5, 2), "water": (0.5, 2)}


def test_integral_float_group_labels_are_accepted():
    assert worst_group_accuracy([0, 1, 1], [0, 1, 0], group_labels=[0.0, 1.0, 1.0]) == 0.5


def test_column_vectors_are_accepted():
    y = np.array([[0], [1], [1], [0]])
    assert worst_group_accuracy(y, y, group_labels=np.array([[0], [0], [1], [1]])) == 1.0


def test_group_proportions():
    assert group_proportions([2, 2, 0, 1]) == {0: 0.25, 1: 0.25, 2: 0.5}


def test_weighted_group_accuracy_normalises_and_ignores_zero_weights():
    y_true, y_pred, groups = [0, 0, 1, 1], [0, 0, 1, 0], [0, 0, 1, 1]
    score = weighted_group_accuracy(y_true, y_pred, group_labels=groups, group_weights={0: 3, 1: 1, 7: 0})
    assert score == pytest.approx(0.75 * 1.0 + 0.25 * 0.5)


def test_group_report_text():
    report = group_report(
        [0, 0, 1, 1],
        [0, 1, 1, 1],
        group_labels=[0, 0, 1, 1],
        group_names={0: "landbird", 1: "waterbird"},
        digits=2,
    )
    lines = report.splitlines()
    assert lines[0].split() == ["n_samples", "accuracy"]
    assert lines[2].split() == ["landbird", "2", "0.50"]
    assert lines[3].split() == ["waterbird", "2", "1.00"]
    assert lines[5].split() == ["worst", "group", "(landbird)", "2", "0.50"]
    assert lines[6].split() == ["mean", "group", "4", "0.75"]
    assert lines[7].split() == ["overall", "4", "0.75"]


def test_group_report_dict():
    report = group_report([0, 0, 1, 1], [0, 1, 1, 1], group_labels=[5, 5, 3, 3], output_dict=True)
    assert report == {
        "3": {"n_samples": 2, "accuracy": 1.0},
        "5": {"n_samples": 2, "accuracy": 0.5},
        "worst_group": {"group": 5, "n_samples": 2, "accuracy": 0.5},
        "mean_group": {"n_samples": 4, "accuracy": 0.75},
        "overall": {"n_samples": 4, "accuracy": 0.75},
    }


def test_worst_group_ties_pick_lowest_group():
    report = group_report([0, 1, 0, 1], [1, 1, 1, 1], group_labels=[1, 1, 0, 0], output_dict=True)
    assert report["worst_group"]["group"] == 0


def test_make_groups_and_unknown_group_are_reexported():
    assert make_groups is _groups.make_groups
    assert UNKNOWN_GROUP == _groups.UNKNOWN_GROUP == -1


ALL_METRICS = [
    group_accuracies,
    worst_group_accuracy,
    mean_group_accuracy,
    group_report,
]
SUMMARY_METRICS = [worst_group_accuracy, mean_group_accuracy, group_report]


@pytest.mark.parametrize("metric", ALL_METRICS)
@pytest.mark.parametrize(
    "y_true, y_pred, groups",
    [
        ([0, 1, 1], [0, 1], [0, 1, 1]),
        ([0, 1], [0, 1, 1], [0, 1, 1]),
        ([0, 1, 1], [0, 1, 1], [0, 1]),
    ],
)
def test_length_mismatch(metric, y_true, y_pred, groups):
    with pytest.raises(ValueError, match="must have the same length"):
        metric(y_true, y_pred, group_labels=groups)


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_sample_weight_length_mismatch(metric):
    with pytest.raises(ValueError, match="sample_weight has 2 values but there are 3"):
        metric([0, 1, 1], [0, 1, 1], group_labels=[0, 1, 1], sample_weight=[1, 1])


@pytest.mark.parametrize("metric", SUMMARY_METRICS)
def test_single_group_raises(metric):
    with pytest.raises(ValueError, match=r"Only one group \(3\) is present"):
        metric([0, 1, 1], [0, 1, 0], group_labels=[3, 3, 3])


def test_weighted_group_accuracy_single_group_raises():
    with pytest.raises(ValueError, match="Only one group"):
        weighted_group_accuracy([0, 1], [0, 1], group_labels=[3, 3], group_weights={3: 1})


def test_group_accuracies_allows_single_group():
    assert group_accuracies([0, 1], [0, 0], group_labels=[3, 3]) == {3: (0.5, 2)}


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_unknown_group_raises(metric):
    message = (
        "2 of the 4 rows to score have the unknown group UNKNOWN_GROUP (-1). In "
        "JTT's protocol the training rows have no group label, so only the "
        "group-labelled validation rows can be scored"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        metric([0, 1, 1, 0], [0, 1, 1, 0], group_labels=[0, 1, -1, UNKNOWN_GROUP])


def test_nan_group_raises():
    with pytest.raises(ValueError, match="group_labels contains NaN"):
        worst_group_accuracy([0, 1], [0, 1], group_labels=[0.0, np.nan])


@pytest.mark.parametrize(
    "groups, match",
    [
        ([0.5, 1.0], "non-integer floats"),
        (np.array([0, "a"], dtype=object), "all integers"),
        (np.zeros((2, 2)), "1-dimensional"),
    ],
)
def test_bad_group_labels(groups, match):
    with pytest.raises(ValueError, match=match):
        group_accuracies([0, 1], [0, 1], group_labels=groups)


def test_continuous_predictions_raise():
    with pytest.raises(ValueError, match="score estimator.predict"):
        worst_group_accuracy([0, 1], [0.2, 0.9], group_labels=[0, 1])


def test_mixed_label_types_raise():
    with pytest.raises(ValueError, match="Mix of label input types"):
        worst_group_accuracy(["a", "b"], [0, 1], group_labels=[0, 1])


def test_empty_input_raises():
    with pytest.raises(ValueError, match="no rows to score"):
        group_accuracies([], [], group_labels=[])


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        ([1.0, -1.0, 1.0], "non-negative"),
        ([1.0, np.nan, 1.0], "finite"),
        ([1.0, 0.0, 0.0], r"Groups \[1\] have zero total sample_weight"),
    ],
)
def test_bad_sample_weight(sample_weight, match):
    with pytest.raises(ValueError, match=match):
        worst_group_accuracy([0, 1, 1], [0, 1, 1], group_labels=[0, 1, 1], sample_weight=sample_weight)


def test_weighted_group_accuracy_errors():
    args = ([0, 1, 1, 0], [0, 1, 0, 0])
    groups = [0, 0, 1, 1]
    with pytest.raises(ValueError, match=r"no weight for groups \[1\]"):
        weighted_group_accuracy(*args, group_labels=groups, group_weights={0: 1.0})
    with pytest.raises(ValueError, match=r"positive weight to groups \[2\]"):
        weighted_group_accuracy(*args, group_labels=groups, group_weights={0: 1.0, 1: 1.0, 2: 0.5})
    with pytest.raises(ValueError, match="non-negative"):
        weighted_group_accuracy(*args, group_labels=groups, group_weights={0: 1, 1: -1})
    with pytest.raises(ValueError, match="all zero"):
        weighted_group_accuracy(*args, group_labels=groups, group_weights={0: 0, 1: 0})
    with pytest.raises(TypeError, match="must be a dict"):
        weighted_group_accuracy(*args, group_labels=groups, group_weights=[0.5, 0.5])


def test_group_proportions_rejects_unknown_group():
    with pytest.raises(ValueError, match="contains the unknown group"):
        group_proportions([0, 1, -1])


def test_group_report_names_errors():
    args = ([0, 1, 1, 0], [0, 1, 0, 0])
    with pytest.raises(ValueError, match=r"no name for groups \[1\]"):
        group_report(*args, group_labels=[0, 0, 1, 1], group_names={0: "a"})
    with pytest.raises(ValueError, match="must be unique"):
        group_report(*args, group_labels=[0, 0, 1, 1], group_names={0: "a", 1: "a"})
    with pytest.raises(TypeError, match="must be a dict"):
        group_report(*args, group_labels=[0, 0, 1, 1], group_names="ab")
    with pytest.raises(ValueError, match=r"no name for groups \[1\]"):
        group_report(*args, group_labels=[0, 0, 1, 1], group_names=["only group 0"])


def test_group_report_takes_names_as_a_sequence_indexed_by_group():
    report = group_report(
        [0, 1, 1, 0], [0, 1, 0, 0], group_labels=[0, 0, 1, 1], group_names=["first", "second"]
    )
    assert "first" in report and "second" in report
    as_dict = group_report(
        [0, 1, 1, 0], [0, 1, 0, 0], group_labels=[0, 0, 1, 1], group_names={0: "first", 1: "second"}
    )
    assert report == as_dict


def test_group_labels_is_keyword_only():
    with pytest.raises(TypeError):
        worst_group_accuracy([0, 1], [0, 1], [0, 1])


def test_worst_class_accuracy_by_hand():
    # Class 0: 3 of 4 right; class 1: 1 of 2; class 2: 2 of 2.
    y_true = [0, 0, 0, 0, 1, 1, 2, 2]
    y_pred = [0, 0, 0, 1, 1, 2, 2, 2]
    assert worst_class_accuracy(y_true, y_pred) == 1 / 2
    # Weights inside each class: class 1's wrong row counts three times.
    weights = [1, 1, 1, 1, 1, 3, 1, 1]
    assert worst_class_accuracy(y_true, y_pred, sample_weight=weights) == 1 / (1 + 3)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n_classes", [2, 4])
def test_worst_class_accuracy_is_the_lowest_recall(seed, n_classes):
    y_true, y_pred, _, sample_weight = _random_inputs(seed, n_classes=n_classes)
    recalls = recall_score(y_true, y_pred, average=None, sample_weight=sample_weight)
    assert worst_class_accuracy(y_true, y_pred, sample_weight=sample_weight) == pytest.approx(recalls.min())
    # The classes as the groups.
    assert worst_class_accuracy(y_true, y_pred) == worst_group_accuracy(y_true, y_pred, group_labels=y_true)


def test_worst_class_accuracy_ignores_classes_absent_from_y_true():
    # Class 2 is only predicted: it has no recall, and its prediction is an error of class 1.
    assert worst_class_accuracy([0, 0, 1, 1], [0, 0, 1, 2]) == 1 / 2
    # A class label of -1 is a class, not the unknown group.
    assert worst_class_accuracy([-1, -1, 1, 1], [-1, 1, 1, 1]) == 1 / 2
    assert worst_class_accuracy(["no", "yes", "yes"], ["no", "no", "yes"]) == 1 / 2
    # One class: plain accuracy.
    assert worst_class_accuracy([1, 1, 1, 1], [1, 0, 1, 1]) == 3 / 4


def test_worst_class_accuracy_bad_inputs():
    with pytest.raises(ValueError, match="same length"):
        worst_class_accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="must hold class labels"):
        worst_class_accuracy([0, 1], [0.2, 0.7])
    with pytest.raises(ValueError, match="no rows to score"):
        worst_class_accuracy([], [])
