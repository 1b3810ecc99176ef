"""skorch callbacks: worst-group validation accuracy per epoch, and per-epoch error sets."""

from ._error_sets import ErrorSetRecorder
from ._worst_group import WorstGroupScoring

__all__ = ["ErrorSetRecorder", "WorstGroupScoring"]
