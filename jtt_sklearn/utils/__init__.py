"""Building blocks of JTTClassifier that are useful on their own."""

from ._groups import UNKNOWN_GROUP, make_groups
from ._sampling import MultiplicitySampler, UpsamplingDataLoader, upsampling_multiplicity

__all__ = [
    "MultiplicitySampler",
    "UNKNOWN_GROUP",
    "UpsamplingDataLoader",
    "make_groups",
    "upsampling_multiplicity",
]
