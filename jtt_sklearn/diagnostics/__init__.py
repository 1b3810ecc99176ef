"""Diagnostics of a fitted JTTClassifier: does its error set pick out the worst groups?

JTT relies on its short identification run failing mostly on the minority
groups. :func:`error_set_report` checks that on group-labelled rows (usually
the validation set) and says in one line whether it holds;
:func:`plot_error_set_report` draws the same numbers.
"""

from ._error_set_report import error_set_report, plot_error_set_report

__all__ = ["error_set_report", "plot_error_set_report"]
