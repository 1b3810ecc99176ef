"""skorch callbacks for choosing the epoch by worst-group validation accuracy."""

from ._worst_group import WorstGroupScoring

__all__ = ["WorstGroupScoring"]
