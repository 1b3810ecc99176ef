"""Group DRO (Sagawa et al., 2020): an oracle baseline that uses the training groups."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils._param_validation import Interval
from torch import nn

from .._skorch import find_skorch_net
from .._training import check_training_loss, reraise_interrupt
from ..utils._seeding import seeded_torch
from ._base import GroupOracleMixin


class GroupDROLoss(nn.Module):
    """Online Group DRO loss: a softmax-weighted mix of per-group losses.

    The target of each row holds two columns, ``(label, group)``. In training
    mode every batch updates the group weights ``q`` by exponentiated gradient
    ascent, ``q_g <- q_g * exp(eta * loss_g)``, then renormalises them; the
    loss is ``sum_g q_g * loss_g``, so the worst groups dominate.

    Parameters
    ----------
    n_groups : int
        Number of groups.
    eta : float, default=0.01
        Step size of the group-weight update.
    """

    group_weights: torch.Tensor  # a registered buffer

    def __init__(self, n_groups: int, eta: float = 0.01) -> None:
        super().__init__()
        self.n_groups = n_groups
        self.eta = eta
        self.register_buffer("group_weights", torch.full((n_groups,), 1.0 / n_groups))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target = target.long()
        labels, groups = target[:, 0], target[:, 1]
        losses = F.cross_entropy(logits, labels, reduction="none")
        totals = torch.zeros(self.n_groups, device=logits.device, dtype=losses.dtype)
        totals = totals.index_add(0, groups, losses)
        counts = torch.bincount(groups, minlength=self.n_groups).to(losses.dtype)
        group_losses = totals / counts.clamp(min=1)
        if self.training:
            with torch.no_grad():
                present = counts > 0  # a group absent from the batch keeps its weight
                step = torch.where(present, self.eta * group_losses.detach(), torch.zeros_like(group_losses))
                weights = self.group_weights * torch.exp(step)
                self.group_weights.copy_(weights / weights.sum())
        return (self.group_weights * group_losses).sum()


def _refuse_train_split(net, prefix):
    """Raise unless the net trains on all rows without a validation split of its own.

    Every skorch split sees the (label, group) targets: a stratified one
    cannot split them, and any validation set, ``predefined_split``'s
    included, reaches the loss and the accuracy scoring, which need labels
    alone (the scoring fails only after the first epoch).
    """
    if net.train_split is not None:
        raise ValueError(
            "GroupDROClassifier trains the net on (label, group) pairs, which skorch's internal "
            f"validation cannot take; the net has train_split={net.train_split!r}. Set "
            f"{prefix}train_split=None, and score the fitted classifier on your group-labelled "
            "validation rows instead (for example with jtt_sklearn.metrics.worst_group_accuracy)."
        )


def _softmax(logits):
    return torch.softmax(logits, dim=-1)


class GroupDROClassifier(GroupOracleMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Train a skorch net with the online Group DRO objective (needs training groups).

    An oracle baseline: it needs the group of every training row, which JTT
    does not. The net's criterion is replaced by :class:`GroupDROLoss`; its
    module must return logits.

    Parameters
    ----------
    base_estimator : skorch NeuralNetClassifier
        The net to train, with ``train_split=None``: the net's targets
        become (label, group) pairs, which skorch's internal validation
        cannot take (any other ``train_split`` raises ``ValueError``).
        Score the fitted classifier on group-labelled validation rows
        instead.
    eta : float, default=0.01
        Step size of the exponentiated group-weight update.
    random_state : int or None, default=None
        Seeds torch for a reproducible fit.

    Attributes
    ----------
    estimator_ : NeuralNetClassifier
        The fitted net.
    group_weights_ : ndarray of shape (n_groups,)
        The adversarial group weights at the end of training.
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    References
    ----------
    S. Sagawa, P. W. Koh, T. B. Hashimoto, P. Liang. "Distributionally Robust
    Neural Networks for Group Shifts." ICLR 2020.
    """

    _parameter_constraints = {
        **GroupOracleMixin._parameter_constraints,
        "eta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, base_estimator: Any, *, eta: float = 0.01, random_state: int | None = None) -> None:
        self.base_estimator = base_estimator
        self.eta = eta
        self.random_state = random_state

    def _train(self, X, y, groups, seed):
        net, prefix = find_skorch_net(self.base_estimator)
        if net is None:
            raise ValueError(
                "GroupDROClassifier trains a skorch net (its loss is per batch); got "
                f"{type(self.base_estimator).__name__}. For scikit-learn estimators use "
                "GroupBalancedClassifier."
            )
        _refuse_train_split(net, prefix)
        estimator = clone(self.base_estimator).set_params(
            **{
                f"{prefix}criterion": GroupDROLoss,
                f"{prefix}criterion__n_groups": int(groups.max()) + 1,
                f"{prefix}criterion__eta": self.eta,
                f"{prefix}predict_nonlinearity": _softmax,
            }
        )
        with seeded_torch(seed), reraise_interrupt("the Group DRO net"):
            estimator = estimator.fit(X, np.column_stack([y, groups]))
        check_training_loss(estimator, stage="the Group DRO net")
        weights = find_skorch_net(estimator)[0].criterion_.group_weights.detach().cpu().numpy()
        return estimator, {"group_weights_": weights}
