"""Baselines with JTTClassifier's API. Both are oracles: they need training groups.

- :class:`GroupBalancedClassifier`: upsample every group to the largest one.
- :class:`GroupDROClassifier`: online Group DRO (Sagawa et al., 2020) for skorch nets.

Plain ERM is the base estimator itself.
"""

from ._group_balanced import GroupBalancedClassifier, group_balancing_multiplicity
from ._group_dro import GroupDROClassifier, GroupDROLoss

__all__ = [
    "GroupBalancedClassifier",
    "GroupDROClassifier",
    "GroupDROLoss",
    "group_balancing_multiplicity",
]
