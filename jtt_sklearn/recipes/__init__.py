"""Ready-made base estimators for JTTClassifier (tabular, torchvision, transformers) and the paper's settings.

Nothing here downloads: pretrained weights come from files or directories you supply.
"""

from ._paper import (
    PAPER_SETTINGS,
    adjusted_average_accuracy,
    make_paper_jtt,
    official_transforms,
    paper_grid,
    report_paper_run,
    run_paper_setting,
)
from ._tabular import TabularMLP, make_tabular_net
from ._text import (
    HuggingfaceSequenceClassifier,
    LinearSchedule,
    join_sentence_pairs,
    make_text_pipeline,
)
from ._vision import (
    TorchvisionClassifier,
    efficientnet_lite0,
    efficientnet_lite0_weights,
    make_efficientnet_lite0_net,
    make_vision_net,
)

__all__ = [
    "HuggingfaceSequenceClassifier",
    "LinearSchedule",
    "PAPER_SETTINGS",
    "TabularMLP",
    "TorchvisionClassifier",
    "adjusted_average_accuracy",
    "efficientnet_lite0",
    "efficientnet_lite0_weights",
    "join_sentence_pairs",
    "make_efficientnet_lite0_net",
    "make_paper_jtt",
    "make_tabular_net",
    "make_text_pipeline",
    "official_transforms",
    "paper_grid",
    "make_vision_net",
    "report_paper_run",
    "run_paper_setting",
]
