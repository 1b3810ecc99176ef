"""Building blocks useful on their own: upsampling samplers, fast torch pieces, group ids.

The private modules here are shared by several subpackages (seeding, input
validation, warnings); JTT's own stages live beside the estimator.
"""

from ._fast_torch import AutocastModule, BatchedTensorDataset, collate_batched
from ._groups import UNKNOWN_GROUP, UNKNOWN_GROUP_NAME, make_groups
from ._sampling import (
    MultiplicitySampler,
    UpsamplingDataLoader,
    upsampling_multiplicity,
)

__all__ = [
    "AutocastModule",
    "BatchedTensorDataset",
    "collate_batched",
    "MultiplicitySampler",
    "UNKNOWN_GROUP",
    "UNKNOWN_GROUP_NAME",
    "UpsamplingDataLoader",
    "make_groups",
    "upsampling_multiplicity",
]
