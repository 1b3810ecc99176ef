"""Group metrics and scorers for choosing models by worst-group accuracy.

Every group function takes the group of each scored row as the keyword-only
``group_labels`` (integers from :func:`~jtt_sklearn.utils.make_groups`, or strings). Rows with
the unknown group ``UNKNOWN_GROUP`` (-1), the training rows of JTT's
protocol, cannot be scored. :func:`worst_class_accuracy` and its scorer
need no groups: the classes stand in for them.
"""

from ..exceptions import UnknownGroupLabelsError
from ..utils._groups import UNKNOWN_GROUP, UNKNOWN_GROUP_NAME, make_groups
from ._group_metrics import (
    GroupAccuracy,
    group_accuracies,
    group_proportions,
    group_report,
    mean_group_accuracy,
    weighted_group_accuracy,
    worst_class_accuracy,
    worst_group_accuracy,
)
from ._scorer import (
    make_group_scorer,
    make_worst_class_scorer,
    make_worst_group_scorer,
)

__all__ = [
    "UNKNOWN_GROUP",
    "UNKNOWN_GROUP_NAME",
    "GroupAccuracy",
    "UnknownGroupLabelsError",
    "group_accuracies",
    "group_proportions",
    "group_report",
    "make_group_scorer",
    "make_groups",
    "make_worst_class_scorer",
    "make_worst_group_scorer",
    "mean_group_accuracy",
    "weighted_group_accuracy",
    "worst_class_accuracy",
    "worst_group_accuracy",
]
