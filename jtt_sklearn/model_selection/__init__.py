"""JTT's model-selection protocol for scikit-learn searches.

Training rows have no group labels; a group-labelled validation set chooses
the hyperparameters by worst-group accuracy.
"""

from ._protocol import ValidationProtocol, make_validation_protocol, refit_on_train
from ._tune import tune_on_validation

__all__ = ["ValidationProtocol", "make_validation_protocol", "refit_on_train", "tune_on_validation"]
