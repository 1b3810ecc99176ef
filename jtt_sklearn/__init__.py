"""jtt-sklearn: Just Train Twice (JTT) for scikit-learn and skorch.

JTT improves worst-group accuracy without training group labels: a short ERM
run finds the training rows it gets wrong, and a second model is trained with
those rows upsampled. Group labels are needed only on a validation set, to
choose ``T`` and ``lambda_up``.
"""

from ._jtt import JTTClassifier
from .exceptions import EmptyErrorSetWarning

__version__ = "0.1.0.dev0"

__all__ = ["JTTClassifier", "EmptyErrorSetWarning", "__version__"]
