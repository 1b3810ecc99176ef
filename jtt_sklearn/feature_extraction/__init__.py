"""The frozen-feature path: embed images, texts or a torch Dataset once with a pretrained backbone.

:class:`PretrainedEmbedder` is a scikit-learn transformer: its output is a
float32 array that JTT, ERM and the oracle baselines search on at the cost
of a small head. The backbones are read from local files; nothing is
downloaded.
"""

from ._backbones import efficientnet_lite0_backbone, huggingface_backbone, torchvision_backbone
from ._embedding import PretrainedEmbedder

__all__ = [
    "PretrainedEmbedder",
    "efficientnet_lite0_backbone",
    "huggingface_backbone",
    "torchvision_backbone",
]
