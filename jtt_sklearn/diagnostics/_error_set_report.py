"""Per-group error rates of the identification model, and a verdict on JTT's premise."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from .._jtt import JTTClassifier
from ..metrics._group_metrics import (
    _check_group_labels,
    _check_labels,
    _display_names,
    _group_table,
)

if TYPE_CHECKING:  # matplotlib is optional: imported only when plotting
    from matplotlib.axes import Axes

# The columns of the report, in order: the dict keys of every row.
_COLUMNS = (
    "n_samples",
    "share_of_rows",
    "identifier_error_rate",
    "share_of_errors",
    "enrichment",
    "class_enrichment",
    "final_accuracy",
)
_SUMMARY = ("identifier_worst_group", "final_worst_group", "overall")
# Printed under the table, so that the text report reads without the docs.
_LEGEND = (
    "identifier_error_rate: share of the group's rows the identification model gets wrong; "
    "share_of_errors: the group's share of all its errors.",
    "enrichment = share_of_errors / share_of_rows (1: the errors fall on the group as on any row); "
    "class_enrichment = the group's errors / those its classes' error rates predict (1: the errors "
    "follow the class, not the group).",
)
_NOT_GROUPS = frozenset(_SUMMARY) | {"premise_holds", "verdict"}
_PLOT_INSTALL = '`pip install matplotlib` (or `pip install "jtt-sklearn[plot]"`)'


# output_dict=True gives a dict, the default a str.
@overload
def error_set_report(
    estimator: Any,
    X: ArrayLike | Any,
    y: ArrayLike,
    *,
    group_labels: ArrayLike,
    group_names: Mapping[Any, str] | Sequence[str] | None = ...,
    enrichment_threshold: float = ...,
    coverage_threshold: float = ...,
    digits: int = ...,
    output_dict: Literal[False] = ...,
) -> str: ...
@overload
def error_set_report(
    estimator: Any,
    X: ArrayLike | Any,
    y: ArrayLike,
    *,
    group_labels: ArrayLike,
    group_names: Mapping[Any, str] | Sequence[str] | None = ...,
    enrichment_threshold: float = ...,
    coverage_threshold: float = ...,
    digits: int = ...,
    output_dict: Literal[True],
) -> dict[str, Any]: ...
@overload
def error_set_report(
    estimator: Any,
    X: ArrayLike | Any,
    y: ArrayLike,
    *,
    group_labels: ArrayLike,
    group_names: Mapping[Any, str] | Sequence[str] | None = ...,
    enrichment_threshold: float = ...,
    coverage_threshold: float = ...,
    digits: int = ...,
    output_dict: bool = ...,
) -> str | dict[str, Any]: ...
@validate_params(
    {
        # A share of errors under the share of rows is no concentration: the threshold starts at 1.
        "enrichment_threshold": [Interval(Real, 1, np.inf, closed="left")],
        "coverage_threshold": [Interval(Real, 0, 1, closed="both")],  # a share of a group's rows
        "digits": [Interval(Integral, 0, None, closed="left")],
        "output_dict": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def error_set_report(
    estimator: Any,
    X: ArrayLike | Any,
    y: ArrayLike,
    *,
    group_labels: ArrayLike,
    group_names: Mapping[Any, str] | Sequence[str] | None = None,
    enrichment_threshold: float = 1.5,
    coverage_threshold: float = 0.5,
    digits: int = 4,
    output_dict: bool = False,
) -> str | dict[str, Any]:
    """Where the identification model's errors fall, group by group, like ``group_report``.

    JTT works when its identification model (``identifier_``, stage 1) gets
    the worst groups wrong much more often than the others, so that its
    error set is mostly their rows. Training rows have no group labels, so
    check this on group-labelled rows, usually the validation set: for each
    group, how often ``identifier_`` misclassifies its rows, what share of
    all its errors they make, and the final model's accuracy; then one line
    that says whether the premise holds.

    Parameters
    ----------
    estimator : JTTClassifier or Pipeline
        A fitted :class:`~jtt_sklearn.JTTClassifier`, or a fitted Pipeline
        whose last step is one (``X`` then goes through the other steps
        before reaching the identification model).
    X : array-like, DataFrame, dict of arrays or torch Dataset
        The rows to check, in the form ``estimator.predict`` takes.
    y : array-like of shape (n_samples,)
        Their true labels.
    group_labels : array-like of shape (n_samples,)
        Their groups; at least two groups, none unknown (-1).
    group_names : dict or sequence of str, default=None
        Display names, as for :func:`~jtt_sklearn.metrics.group_report`.
    enrichment_threshold : float in [1, inf), default=1.5
        How many times its share of the rows a group's share of the errors
        must be for the premise to hold (see Notes).
    coverage_threshold : float in [0, 1], default=0.5
        The share of such a group's rows that ``identifier_`` must
        misclassify (its ``identifier_error_rate``) for the premise to hold:
        upsampling reaches only the rows in the error set (see Notes).
    digits : int, default=4
        Digits of the numbers in the text report (``output_dict`` values are
        not rounded).
    output_dict : bool, default=False
        Return a dict instead of a string.

    Returns
    -------
    report : str or dict
        One row per group, with the columns

        - ``n_samples``: the group's rows; ``share_of_rows``: their share of
          all rows;
        - ``identifier_error_rate``: the share of the group's rows that
          ``identifier_`` misclassifies;
        - ``share_of_errors``: the group's share of all of ``identifier_``'s
          errors on these rows;
        - ``enrichment``: ``share_of_errors / share_of_rows``, which is also
          the group's error rate over the overall error rate (1: the errors
          fall on the group as often as on any row);
        - ``class_enrichment``: the group's errors over those expected from
          its rows' classes (each row counted with ``identifier_``'s error
          rate on its class, so for a group inside one class, the group's
          error rate over the class's; 1: the errors follow the classes,
          not the group);
        - ``final_accuracy``: the final model's accuracy on the group;

        then the rows ``identifier worst (name)`` (the group with the highest
        identification error rate), ``final worst (name)`` (the group with the
        lowest final accuracy; the lowest group label wins ties in both) and
        ``overall``, and the verdict. As a dict, keys are the group names
        (strings) and ``"identifier_worst_group"``, ``"final_worst_group"``
        (both also hold their ``"group"``), ``"overall"``,
        ``"premise_holds"`` (True, False, or None when ``identifier_``
        makes no error on these rows) and ``"verdict"`` (the line). Without
        errors the shares and enrichments are NaN.

    Raises
    ------
    TypeError
        If ``estimator`` is neither a JTTClassifier nor a Pipeline ending in
        one.
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    ValueError
        If the inputs differ in length, a row has the unknown group, or
        only one group is present; ``InvalidParameterError`` (a ValueError)
        if a threshold is outside its range or NaN.

    See Also
    --------
    plot_error_set_report : The same numbers as a bar chart.
    jtt_sklearn.metrics.group_report : Accuracy per group of any predictions.

    Notes
    -----
    **The rule.** JTT's premise holds when some group has at least
    ``enrichment_threshold`` times its share of the errors, both against all
    rows (``enrichment``) and against the rows of its classes
    (``class_enrichment``), and ``identifier_`` misclassifies at least
    ``coverage_threshold`` of that group's rows; the verdict names the one
    with the highest ``enrichment``. Otherwise it does not hold, and the
    verdict says why: the errors are spread like the rows (no group reaches
    the threshold), they follow the classes (a group reaches it, but only
    because its class is often misclassified, in all of that class's groups
    alike; upweighting the error set then amounts to upweighting a class),
    or the premise holds only in part (the errors are concentrated in a
    group, but the error set holds too few of its rows for upsampling to
    reach that group).

    A group of a few rows can reach the threshold by chance; read the
    ``n_samples`` column. The identification model sees the validation rows
    for the first time, so its errors there estimate the composition of
    the error set on the (ungrouped) training rows; pass the training rows
    and their groups, where a dataset has them, to see the error set itself
    (``error_set_`` is then exactly the rows counted as errors).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from jtt_sklearn import JTTClassifier
    >>> from jtt_sklearn.datasets import load_colored_digits
    >>> from jtt_sklearn.diagnostics import error_set_report
    >>> splits = load_colored_digits()
    >>> (X, y, _), (X_val, y_val, g_val), _ = splits
    >>> clf = JTTClassifier(LogisticRegression(max_iter=1000), T=1, lambda_up=50, random_state=0)
    >>> report = error_set_report(
    ...     clf.fit(X, y), X_val, y_val, group_labels=g_val,
    ...     group_names=splits.group_names, output_dict=True,
    ... )
    >>> report["premise_holds"]
    True
    >>> round(report["y=1 (digit>=5), red"]["share_of_errors"], 2)
    0.5
    >>> print(report["verdict"])  # doctest: +NORMALIZE_WHITESPACE
    JTT's premise holds: the error set is concentrated in groups 'y=0 (digit<5), green' and
    'y=1 (digit>=5), red'. The identification model misclassifies 100.0% of the rows of
    'y=0 (digit<5), green' and 100.0% of those of 'y=1 (digit>=5), red', against 50.0% of all
    rows. Together they have 50.0% of the rows and 100.0% of the errors, so upsampling the error
    set upsamples them.
    """
    jtt, X_identifier = _fitted_jtt(estimator, X)
    y_final = estimator.predict(X)
    y_identifier = jtt._decode(jtt.identifier_.predict(X_identifier))  # labels, whatever the base predicts
    groups, final_accuracies, counts, final_overall = _group_table(y, y_final, group_labels, min_groups=2)
    # Checks the identifier's predictions too (their length, a mix of label types).
    _group_table(y, y_identifier, group_labels, min_groups=2)
    names = _display_names(groups, group_names)
    columns, expected, n_errors = _identifier_columns(y, y_identifier, group_labels, counts)
    columns["final_accuracy"] = final_accuracies

    def row(index):
        return {
            key: int(columns[key][index]) if key == "n_samples" else float(columns[key][index])
            for key in _COLUMNS
        }

    n_rows = int(counts.sum())
    identifier_worst = int(np.argmax(columns["identifier_error_rate"]))  # first maximum
    final_worst = int(np.argmin(final_accuracies))
    shares_of_all = np.nan if not n_errors else 1.0
    report = {name: row(index) for index, name in enumerate(names)}
    summary = {
        "identifier_worst_group": {"group": groups[identifier_worst].item(), **row(identifier_worst)},
        "final_worst_group": {"group": groups[final_worst].item(), **row(final_worst)},
        "overall": {
            "n_samples": n_rows,
            "share_of_rows": 1.0,
            "identifier_error_rate": float(n_errors / n_rows),
            "share_of_errors": shares_of_all,
            "enrichment": shares_of_all,
            "class_enrichment": shares_of_all,
            "final_accuracy": final_overall,
        },
    }
    premise_holds, verdict = _verdict(
        columns, names, expected, n_errors / n_rows, enrichment_threshold, coverage_threshold
    )
    if output_dict:
        return {**report, **summary, "premise_holds": premise_holds, "verdict": verdict}
    labels = {
        "identifier_worst_group": f"identifier worst ({names[identifier_worst]})",
        "final_worst_group": f"final worst ({names[final_worst]})",
        "overall": "overall",
    }
    return _text_report(report, {labels[key]: summary[key] for key in _SUMMARY}, verdict, digits)


def _premise(y, y_identifier, group_labels, *, enrichment_threshold=1.5, coverage_threshold=0.5):
    """``(premise_holds, verdict)`` from labels and the identification model's predictions alone.

    The verdict of :func:`error_set_report` without a fitted estimator: for saved predictions.
    """
    groups, _, counts, _ = _group_table(y, y_identifier, group_labels, min_groups=2)
    columns, expected, n_errors = _identifier_columns(y, y_identifier, group_labels, counts)
    names = _display_names(groups, None)
    return _verdict(
        columns, names, expected, n_errors / counts.sum(), enrichment_threshold, coverage_threshold
    )


def _identifier_columns(y, y_identifier, group_labels, counts):
    """The identification model's columns of the report (inputs already checked).

    Returns ``(columns, expected, n_errors)``: ``expected`` is each group's
    number of errors expected from its rows' classes.
    """
    y_true = _check_labels(y, "y")
    _, group_index = np.unique(_check_group_labels(group_labels), return_inverse=True)
    _, class_index = np.unique(y_true, return_inverse=True)
    wrong = (y_identifier != y_true).astype(np.float64)
    n_errors = wrong.sum()
    errors = np.bincount(group_index, weights=wrong, minlength=counts.shape[0])
    class_error_rates = np.bincount(class_index, weights=wrong) / np.bincount(class_index)
    expected = np.bincount(group_index, weights=class_error_rates[class_index], minlength=counts.shape[0])
    share_of_rows = counts / counts.sum()
    undefined = np.full(counts.shape[0], np.nan)  # shares of no errors at all
    share_of_errors = errors / n_errors if n_errors else undefined
    with np.errstate(divide="ignore", invalid="ignore"):
        # A group without errors: 0, also where its classes have none (0 / 0).
        class_enrichment = np.where(errors > 0, errors / expected, 0.0) if n_errors else undefined
    columns = {
        "n_samples": counts,
        "share_of_rows": share_of_rows,
        "identifier_error_rate": errors / counts,
        "share_of_errors": share_of_errors,
        "enrichment": share_of_errors / share_of_rows,
        "class_enrichment": class_enrichment,
    }
    return columns, expected, n_errors


def _text_report(rows, summary_rows, verdict, digits):
    """The report as text: ``{label: row}`` for the groups, then for the summaries, then the verdict."""
    width = max(len(label) for label in [*rows, *summary_rows])

    def line(label, values):
        cells = "".join(
            f"  {values[key]:>{len(key)}d}"
            if key == "n_samples"
            else f"  {values[key]:>{len(key)}.{digits}f}"
            for key in _COLUMNS
        )
        return f"{label:>{width}s} {cells}"

    lines = [f"{'':>{width}s} " + "".join(f"  {key}" for key in _COLUMNS), ""]
    lines += [line(label, values) for label, values in rows.items()]
    lines.append("")
    lines += [line(label, values) for label, values in summary_rows.items()]
    lines += ["", *_LEGEND, "", verdict]
    return "\n".join(lines) + "\n"


def _fitted_jtt(estimator, X):
    """The fitted JTTClassifier inside ``estimator`` and the rows as its identifier takes them."""
    jtt = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if not isinstance(jtt, JTTClassifier):
        kind = f"a Pipeline ending in {type(jtt).__name__}" if jtt is not estimator else type(jtt).__name__
        raise TypeError(
            "error_set_report describes the identification model (identifier_) of a fitted "
            f"JTTClassifier, or of a Pipeline whose last step is one; got {kind}, which has no "
            "identifier_. For the per-group accuracy of any model use "
            "jtt_sklearn.metrics.group_report."
        )
    check_is_fitted(jtt, "identifier_")
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        X = estimator[:-1].transform(X)
    return jtt, X


# Where the premise fails, what to try instead of JTT as it is set up.
_INSTEAD = (
    " Try instead: a stage-1 model that learns less, so that it fails where the shortcut fails "
    "(a smaller T, or a larger weight decay through identifier_params); or, if you can label the "
    "training groups, an oracle method (jtt_sklearn.baselines.GroupDROClassifier or "
    "GroupBalancedClassifier)."
)


def _and(items):
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _groups_phrase(names, groups):
    return _and([repr(names[g]) for g in groups])


def _verdict(columns, names, expected, overall_error_rate, threshold, coverage):
    """``(premise_holds, one paragraph)`` by the rule of error_set_report's Notes.

    Each percentage says what it is a share of, so that numbers that look alike (a group's error
    rate, its share of the errors, its share of the rows) cannot be confused.
    """
    if overall_error_rate == 0:
        return None, (
            "Cannot tell whether JTT's premise holds: the identification model misclassifies "
            "none of these rows, so there are no errors to compare with the groups."
        )
    enrichment, class_enrichment = columns["enrichment"], columns["class_enrichment"]
    share_of_errors, share_of_rows = columns["share_of_errors"], columns["share_of_rows"]
    rates = columns["identifier_error_rate"]
    concentrated = (enrichment >= threshold) & (class_enrichment >= threshold)
    qualifies = concentrated & (rates >= coverage)
    if concentrated.any() and not qualifies.any():
        groups = np.flatnonzero(concentrated)
        g = groups[np.argmax(rates[groups])]
        return False, (
            "JTT's premise holds only in part: the error set is concentrated in "
            f"{'group' if groups.size == 1 else 'groups'} {_groups_phrase(names, groups)}, but holds under "
            f"{coverage:.0%} of {'its' if groups.size == 1 else 'their'} rows. The identification model "
            f"misclassifies {rates[g]:.1%} of the rows of {names[g]!r}"
            f"{' (the most of these groups)' if groups.size > 1 else ''}, so upsampling the error set "
            f"leaves the other {1 - rates[g]:.1%} of that group at weight 1." + _INSTEAD
        )
    if qualifies.any():
        groups = np.flatnonzero(qualifies)
        groups = groups[np.argsort(-enrichment[groups], kind="stable")]
        which, together = ("group", "It has") if groups.size == 1 else ("groups", "Together they have")
        rates_text = [f"{rates[g]:.1%} of the rows of {names[g]!r}" for g in groups[:1]]
        rates_text += [f"{rates[g]:.1%} of those of {names[g]!r}" for g in groups[1:]]
        return True, (
            f"JTT's premise holds: the error set is concentrated in {which} "
            f"{_groups_phrase(names, groups)}. The identification model misclassifies "
            f"{_and(rates_text)}, against {overall_error_rate:.1%} of all rows. {together} "
            f"{share_of_rows[groups].sum():.1%} of the rows and {share_of_errors[groups].sum():.1%} of "
            "the errors, so upsampling the error set upsamples them."
        )
    g = int(np.argmax(enrichment))
    if enrichment[g] >= threshold:
        class_rate = expected[g] / columns["n_samples"][g]
        return False, (
            "JTT's premise does not hold: the identification model's errors follow the classes, "
            f"not the groups. Group {names[g]!r} has {share_of_rows[g]:.1%} of the rows and "
            f"{share_of_errors[g]:.1%} of the errors, but it is misclassified at {rates[g]:.1%}, under "
            f"{threshold:g} times the rate of its class ({class_rate:.1%}), so upsampling the error set "
            "mostly upweights a class (class weights would do the same)." + _INSTEAD
        )
    return False, (
        "JTT's premise does not hold: the identification model's errors are spread like the rows. "
        f"No group has {threshold:g} times its share of the rows in the errors; the most, "
        f"{names[g]!r}, has {share_of_rows[g]:.1%} of the rows and {share_of_errors[g]:.1%} of the "
        "errors, so the error set is close to a random sample." + _INSTEAD
    )


def plot_error_set_report(report: Mapping[str, Any], *, ax: Axes | None = None) -> Axes:
    """Bar chart of :func:`error_set_report`: where the identification model's errors fall.

    For each group, four bars: its share of the rows, its share of the
    identification model's errors (JTT's premise is that these two differ,
    the errors crowding into the worst groups), the identification model's
    error rate on it, and the final model's accuracy on it. The verdict is
    the title. Saving the figure is the caller's job
    (``ax.figure.savefig("errors.png")``). Needs matplotlib.

    Parameters
    ----------
    report : dict
        ``error_set_report(..., output_dict=True)``.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``report`` is not the dict of ``error_set_report``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.linear_model import LogisticRegression
    >>> from jtt_sklearn import JTTClassifier
    >>> from jtt_sklearn.datasets import load_colored_digits
    >>> from jtt_sklearn.diagnostics import error_set_report, plot_error_set_report
    >>> (X, y, _), (X_val, y_val, g_val), _ = load_colored_digits()
    >>> clf = JTTClassifier(LogisticRegression(max_iter=1000), random_state=0).fit(X, y)
    >>> report = error_set_report(clf, X_val, y_val, group_labels=g_val, output_dict=True)
    >>> ax = plot_error_set_report(report)
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['0', '1', '2', '3']
    """
    if not isinstance(report, Mapping) or "verdict" not in report:
        raise TypeError(
            "plot_error_set_report draws the dict of error_set_report: pass "
            "error_set_report(estimator, X, y, group_labels=g, output_dict=True); got "
            f"{type(report).__name__}."
        )
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"plot_error_set_report needs matplotlib, which is not installed: {_PLOT_INSTALL}."
        ) from error
    names = [name for name in report if name not in _NOT_GROUPS]
    bars = {
        "share of rows": "share_of_rows",
        "share of identifier errors": "share_of_errors",
        "identifier error rate": "identifier_error_rate",
        "final accuracy": "final_accuracy",
    }
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(names) + 2), 4.5))
    positions = np.arange(len(names))
    width = 0.8 / len(bars)
    for offset, (label, key) in enumerate(bars.items()):
        heights = [report[name][key] for name in names]
        ax.bar(positions + (offset - (len(bars) - 1) / 2) * width, heights, width, label=label)
    ax.set_xticks(positions, [textwrap.fill(name, 16) for name in names])
    # Room above the bars for the legend.
    ax.set_ylim(0, 1.2)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("share of rows / errors, rate, accuracy")
    ax.set_xlabel("group")
    ax.set_title(textwrap.fill(report["verdict"], 90), fontsize="small")
    ax.legend(fontsize="small", ncols=len(bars), loc="upper center", frameon=False)
    return ax
