"""error_set_report and its plot: per-group errors of the identification model, and the verdict."""

import re
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_colored_digits
from jtt_sklearn.diagnostics import error_set_report, plot_error_set_report
from jtt_sklearn.metrics import group_report

CLASSES = np.array(["cat", "dog"])


class _Fixed(ClassifierMixin, BaseEstimator):
    """Stands in for a fitted stage model: predicts the labels it was given, row by row."""

    def __init__(self, labels):
        self.labels = labels

    def predict(self, X):
        return np.asarray(self.labels)[np.asarray(X)[:, 0].astype(int)]


def _stub_jtt(identifier_labels, final_labels):
    """A fitted JTTClassifier on string classes whose two models predict the given labels.

    X holds each row's index, so the stubs know which row they predict. Like
    the LogisticRegression they replace, they predict the labels themselves.
    """
    n_rows = len(identifier_labels)
    X = np.arange(n_rows, dtype=float)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # whatever the stage models do, they are replaced
        clf = JTTClassifier(LogisticRegression(), T=None).fit(X, np.resize(CLASSES, n_rows))
    clf.identifier_ = _Fixed(list(identifier_labels))
    clf.final_estimator_ = _Fixed(list(final_labels))
    return clf, X


# Ten rows in three groups; "x" marks the identification model's errors.
#   group 0: cat cat dog dog   no error
#   group 1: cat cat cat cat   errors on 3 of 4
#   group 2: dog dog           error on 1 of 2
Y = np.array(["cat", "cat", "dog", "dog", "cat", "cat", "cat", "cat", "dog", "dog"])
GROUPS = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
IDENTIFIER_WRONG = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 0], dtype=bool)
# The final model errs on rows 5 and 6 (group 1) only.
FINAL_WRONG = np.array([0, 0, 0, 0, 0, 1, 1, 0, 0, 0], dtype=bool)


def _flip(labels, wrong):
    other = {"cat": "dog", "dog": "cat"}
    return np.array([other[label] if flip else label for label, flip in zip(labels, wrong)])


def test_numbers_match_a_hand_computation():
    clf, X = _stub_jtt(_flip(Y, IDENTIFIER_WRONG), _flip(Y, FINAL_WRONG))
    report = error_set_report(clf, X, Y, group_labels=GROUPS, output_dict=True)

    # 4 errors over 10 rows. Class cat: 6 rows (2 in group 0, 4 in group 1), 3 errors;
    # class dog: 4 rows (2 in group 0, 2 in group 2), 1 error.
    cat_rate, dog_rate = 3 / 6, 1 / 4
    expected = {
        "0": dict(
            n_samples=4,
            share_of_rows=4 / 10,
            identifier_error_rate=0 / 4,
            share_of_errors=0 / 4,
            class_enrichment=0.0,
            final_accuracy=4 / 4,
        ),
        "1": dict(
            n_samples=4,
            share_of_rows=4 / 10,
            identifier_error_rate=3 / 4,
            share_of_errors=3 / 4,
            class_enrichment=3 / (4 * cat_rate),
            final_accuracy=2 / 4,
        ),
        "2": dict(
            n_samples=2,
            share_of_rows=2 / 10,
            identifier_error_rate=1 / 2,
            share_of_errors=1 / 4,
            class_enrichment=1 / (2 * dog_rate),
            final_accuracy=2 / 2,
        ),
    }
    for name, row in expected.items():
        row["enrichment"] = row["share_of_errors"] / row["share_of_rows"]
        assert report[name] == pytest.approx(row), name
    assert report["overall"] == pytest.approx(
        dict(
            n_samples=10,
            share_of_rows=1.0,
            identifier_error_rate=4 / 10,
            share_of_errors=1.0,
            enrichment=1.0,
            class_enrichment=1.0,
            final_accuracy=8 / 10,
        )
    )
    assert report["identifier_worst_group"] == pytest.approx({"group": 1, **expected["1"]})
    assert report["final_worst_group"] == pytest.approx({"group": 1, **expected["1"]})
    # Group 1: enrichment 1.875 and class enrichment 1.5 reach 1.5; group 2's enrichment (1.25) does not.
    assert report["premise_holds"] is True
    assert report["verdict"] == (
        "JTT's premise holds: the error set is concentrated in group '1'. The identification model "
        "misclassifies 75.0% of the rows of '1', against 40.0% of all rows. It has 40.0% of the rows and "
        "75.0% of the errors, so upsampling the error set upsamples them."
    )
    # The final model's accuracies are group_report's.
    final = group_report(Y, clf.predict(X), group_labels=GROUPS, output_dict=True)
    for name in expected:
        assert report[name]["final_accuracy"] == final[name]["accuracy"]


def test_the_threshold_decides():
    clf, X = _stub_jtt(_flip(Y, IDENTIFIER_WRONG), Y)
    # Group 1's class enrichment is exactly 1.5; a higher bar fails every group.
    report = error_set_report(clf, X, Y, group_labels=GROUPS, enrichment_threshold=1.6, output_dict=True)
    assert report["premise_holds"] is False
    assert "follow the classes" in report["verdict"]


@pytest.mark.parametrize(
    "params, message",
    [
        # 50 (a percentage) and negative shares used to give "holds only in part" or a premise
        # that holds on any error rate; NaN thresholds made every comparison False.
        ({"coverage_threshold": 50}, r"'coverage_threshold' .* in the range \[0.0, 1.0\]. Got 50"),
        ({"coverage_threshold": -0.1}, r"'coverage_threshold' .* in the range \[0.0, 1.0\]"),
        ({"coverage_threshold": np.nan}, r"'coverage_threshold' .* in the range \[0.0, 1.0\]. Got nan"),
        ({"enrichment_threshold": np.nan}, r"'enrichment_threshold' .* in the range \[1.0, inf\). Got nan"),
        # Under 1, a group with fewer errors than rows would count as concentrated.
        ({"enrichment_threshold": 0.5}, r"'enrichment_threshold' .* in the range \[1.0, inf\)"),
        ({"enrichment_threshold": np.inf}, r"'enrichment_threshold' .* in the range \[1.0, inf\)"),
        ({"enrichment_threshold": "1.5"}, r"'enrichment_threshold' .* in the range \[1.0, inf\)"),
        ({"digits": -1}, r"'digits' .* in the range \[0, inf\)"),
        ({"output_dict": "yes"}, r"'output_dict' .* an instance of 'bool'"),
    ],
    ids=["coverage 50", "coverage -0.1", "coverage nan", "enrichment nan", "enrichment 0.5", "enrichment inf",
         "enrichment str", "digits -1", "output_dict str"],  # fmt: skip
)
def test_nonsense_thresholds_are_refused(params, message):
    clf, X = _stub_jtt(_flip(Y, IDENTIFIER_WRONG), Y)
    with pytest.raises(ValueError, match=message):
        error_set_report(clf, X, Y, group_labels=GROUPS, **params)


def test_thresholds_at_the_ends_of_their_ranges_are_taken():
    clf, X = _stub_jtt(_flip(Y, IDENTIFIER_WRONG), Y)
    for params in [{"coverage_threshold": 0}, {"coverage_threshold": 1.0}, {"enrichment_threshold": 1}]:
        report = error_set_report(clf, X, Y, group_labels=GROUPS, output_dict=True, **params)
        assert report["premise_holds"] in (True, False)
    # No group has all its rows in the errors: a coverage of 1 cannot be met.
    assert error_set_report(
        clf, X, Y, group_labels=GROUPS, coverage_threshold=1.0, output_dict=True
    )["premise_holds"] is False


def _verdict_case(wrong, y, groups, **kwargs):
    clf, X = _stub_jtt(_flip(y, wrong), y)
    return error_set_report(clf, X, y, group_labels=groups, output_dict=True, **kwargs)


def test_errors_spread_like_the_rows_do_not_make_the_premise():
    # Four groups of 10 rows, every group misclassified on 2 of its rows.
    y = np.resize(CLASSES, 40)
    groups = np.repeat([0, 1, 2, 3], 10)
    wrong = np.tile([True, True] + [False] * 8, 4)
    report = _verdict_case(wrong, y, groups)
    assert [report[g]["enrichment"] for g in "0123"] == pytest.approx([1.0] * 4)
    assert report["premise_holds"] is False
    assert report["verdict"].startswith(
        "JTT's premise does not hold: the identification model's errors are spread like the rows. "
        "No group has 1.5 times its share of the rows in the errors; the most, '0', has 25.0% of the "
        "rows and 25.0% of the errors, so the error set is close to a random sample. Try instead: "
    )
    assert "identifier_params" in report["verdict"] and "GroupDROClassifier" in report["verdict"]


# Four groups of 10 rows nested in the classes: 0, 1 are cats, 2, 3 dogs.
NESTED_Y = np.repeat(["cat", "dog"], 20)
NESTED_GROUPS = np.repeat([0, 1, 2, 3], 10)


def test_errors_that_follow_a_class_do_not_make_the_premise():
    # Half of every dog is wrong, no cat.
    wrong = (NESTED_Y == "dog") & (np.arange(40) % 2 == 0)
    report = _verdict_case(wrong, NESTED_Y, NESTED_GROUPS)
    # Groups 2 and 3: twice their share of the errors, but exactly their class's error rate.
    assert report["2"]["enrichment"] == pytest.approx(2.0)
    assert report["2"]["class_enrichment"] == pytest.approx(1.0)
    assert report["premise_holds"] is False
    assert report["verdict"].startswith(
        "JTT's premise does not hold: the identification model's errors follow the classes, not the "
        "groups. Group '2' has 25.0% of the rows and 50.0% of the errors, but it is misclassified at "
        "50.0%, under 1.5 times the rate of its class (50.0%)"
    )
    assert "Try instead: a stage-1 model that learns less" in report["verdict"]


def test_errors_in_a_minority_group_make_the_premise():
    # The dog errors all in group 3: its class enrichment is 2.
    wrong = NESTED_GROUPS == 3
    report = _verdict_case(wrong, NESTED_Y, NESTED_GROUPS, group_names={0: "a", 1: "b", 2: "c", 3: "d"})
    assert report["d"]["class_enrichment"] == pytest.approx(2.0)
    assert report["premise_holds"] is True
    assert (
        "concentrated in group 'd'. The identification model misclassifies 100.0% of the rows of 'd'"
        in (report["verdict"])
    )
    assert "It has 25.0% of the rows and 100.0% of the errors" in report["verdict"]


def test_errors_in_two_minority_groups_name_both():
    # Groups 1 (a cat group) and 3 (a dog group) take every error: both are enriched, both named,
    # the more enriched first; together they hold all the errors.
    wrong = np.isin(NESTED_GROUPS, [1, 3]) & (np.arange(40) % 10 < np.where(NESTED_GROUPS == 1, 6, 8))
    report = _verdict_case(wrong, NESTED_Y, NESTED_GROUPS, group_names={0: "a", 1: "b", 2: "c", 3: "d"})
    assert report["premise_holds"] is True
    # Each percentage says what it is a share of: the error rates per group, then the shares together.
    assert (
        "concentrated in groups 'd' and 'b'. The identification model misclassifies 80.0% of the rows "
        "of 'd' and 60.0% of those of 'b'" in report["verdict"]
    )
    assert "Together they have 50.0% of the rows and 100.0% of the errors" in report["verdict"]


def test_no_errors_cannot_tell():
    report = _verdict_case(np.zeros(10, dtype=bool), Y, GROUPS)
    assert report["premise_holds"] is None
    assert report["verdict"].startswith("Cannot tell whether JTT's premise holds")
    assert np.isnan(report["1"]["share_of_errors"]) and np.isnan(report["overall"]["enrichment"])
    assert report["1"]["identifier_error_rate"] == 0.0


def test_text_report_shows_the_dict():
    clf, X = _stub_jtt(_flip(Y, IDENTIFIER_WRONG), _flip(Y, FINAL_WRONG))
    names = ["small", "medium", "large"]
    report = error_set_report(clf, X, Y, group_labels=GROUPS, group_names=names, digits=3, output_dict=True)
    text = error_set_report(clf, X, Y, group_labels=GROUPS, group_names=names, digits=3)
    lines = text.splitlines()
    assert lines[0].split() == [
        "n_samples",
        "share_of_rows",
        "identifier_error_rate",
        "share_of_errors",
        "enrichment",
        "class_enrichment",
        "final_accuracy",
    ]
    rows = {}
    for line in lines:
        match = re.match(r"^\s*(.+?)\s+(\d+)((?:\s+[\d.]+){6})$", line)
        if match:
            rows[match.group(1)] = [int(match.group(2))] + [float(v) for v in match.group(3).split()]
    keys = lines[0].split()
    for label, key in [
        ("small", "small"),
        ("medium", "medium"),
        ("large", "large"),
        ("overall", "overall"),
        ("identifier worst (medium)", "identifier_worst_group"),
        ("final worst (medium)", "final_worst_group"),
    ]:
        assert rows[label] == pytest.approx([report[key][k] for k in keys], abs=5e-4), label
    assert lines[-1] == report["verdict"]
    assert "0.750" in text and "0.7500" not in text


def test_a_fitted_jtt_on_its_training_rows_counts_its_error_set():
    (X, y, g), (X_val, y_val, g_val), _ = load_colored_digits(random_state=0)
    labels = np.array(["odd", "even"])[y]  # string classes: identifier_ predicts 0/1
    clf = make_pipeline(MinMaxScaler(), JTTClassifier(LogisticRegression(max_iter=300), random_state=0))
    clf.fit(X, labels)
    jtt = clf[-1]
    report = error_set_report(clf, X, labels, group_labels=g, output_dict=True)
    assert round(report["overall"]["identifier_error_rate"] * len(y)) == jtt.error_set_.size > 0
    in_error_set = np.isin(np.arange(len(y)), jtt.error_set_)
    for group in np.unique(g):
        assert report[str(group)]["identifier_error_rate"] == pytest.approx(in_error_set[g == group].mean())
    # On validation rows: the identifier's own predictions, mapped back to the labels.
    report = error_set_report(
        clf, X_val, np.array(["odd", "even"])[y_val], group_labels=g_val, output_dict=True
    )
    identifier_labels = jtt.identifier_.predict(clf[0].transform(X_val))  # a scikit-learn base predicts labels
    wrong = identifier_labels != np.array(["odd", "even"])[y_val]
    for group in np.unique(g_val):
        assert report[str(group)]["identifier_error_rate"] == pytest.approx(wrong[g_val == group].mean())


def test_not_a_jtt_or_not_fitted():
    X, y, groups = np.zeros((4, 1)), np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])
    for estimator in [LogisticRegression().fit(X, y), make_pipeline(MinMaxScaler(), LogisticRegression())]:
        with pytest.raises(TypeError, match="has no identifier_.*group_report"):
            error_set_report(estimator, X, y, group_labels=groups)
    for estimator in [JTTClassifier(), make_pipeline(MinMaxScaler(), JTTClassifier())]:
        with pytest.raises(NotFittedError):
            error_set_report(estimator, X, y, group_labels=groups)


def test_bad_groups_raise_like_group_report():
    clf, X = _stub_jtt(Y, Y)
    with pytest.raises(ValueError, match="Only one group"):
        error_set_report(clf, X, Y, group_labels=np.zeros(10, dtype=int))
    with pytest.raises(ValueError, match="unknown group UNKNOWN_GROUP"):
        error_set_report(clf, X, Y, group_labels=np.where(GROUPS == 2, -1, GROUPS))
    with pytest.raises(ValueError, match="no name for groups"):
        error_set_report(clf, X, Y, group_labels=GROUPS, group_names={0: "a"})


def test_plot_draws_the_report(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clf, X = _stub_jtt(_flip(Y, IDENTIFIER_WRONG), _flip(Y, FINAL_WRONG))
    report = error_set_report(clf, X, Y, group_labels=GROUPS, group_names=["a", "b", "c"], output_dict=True)
    fig, ax = plt.subplots()
    try:
        assert plot_error_set_report(report, ax=ax) is ax
        assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]
        by_label = {
            container.get_label(): [bar.get_height() for bar in container] for container in ax.containers
        }
        assert by_label["share of identifier errors"] == pytest.approx(
            [report[g]["share_of_errors"] for g in "abc"]
        )
        assert by_label["final accuracy"] == pytest.approx([report[g]["final_accuracy"] for g in "abc"])
        assert ax.get_title().replace("\n", " ") == report["verdict"]
        fig.savefig(tmp_path / "errors.png")
        assert (tmp_path / "errors.png").stat().st_size > 0
        new_ax = plot_error_set_report(report)
        assert new_ax.figure is not fig
    finally:
        plt.close("all")
    with pytest.raises(TypeError, match="output_dict=True"):
        plot_error_set_report(error_set_report(clf, X, Y, group_labels=GROUPS))


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    clf, X = _stub_jtt(Y, Y)
    report = error_set_report(clf, X, Y, group_labels=GROUPS, output_dict=True)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_error_set_report(report)


def test_errors_concentrated_in_a_group_but_on_few_of_its_rows_hold_only_in_part():
    # Every error in group 3, but on 3 of its 10 rows: enriched, yet upsampling reaches few of them.
    wrong = (NESTED_GROUPS == 3) & (np.arange(40) % 10 < 3)
    report = _verdict_case(wrong, NESTED_Y, NESTED_GROUPS, group_names={0: "a", 1: "b", 2: "c", 3: "d"})
    assert report["d"]["enrichment"] == pytest.approx(4.0)
    assert report["d"]["class_enrichment"] == pytest.approx(2.0)
    assert report["premise_holds"] is False
    assert report["verdict"].startswith(
        "JTT's premise holds only in part: the error set is concentrated in group 'd', but holds under "
        "50% of its rows. The identification model misclassifies 30.0% of the rows of 'd', so upsampling "
        "the error set leaves the other 70.0% of that group at weight 1. Try instead:"
    )
    assert "Try instead: a stage-1 model that learns less" in report["verdict"]
    # The threshold decides: a group with 30% of its rows in the error set is enough at 0.3.
    lower = _verdict_case(wrong, NESTED_Y, NESTED_GROUPS, coverage_threshold=0.3)
    assert lower["premise_holds"] is True and "concentrated in group '3'" in lower["verdict"]
