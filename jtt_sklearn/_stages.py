"""The work of each JTT stage, as plain functions (stage 1 is cached through joblib.Memory)."""

import contextlib
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from .utils._estimator_params import find_skorch_net, seed_random_states
from .utils._upsampled_fit import fit_upsampled


@contextlib.contextmanager
def seeded_torch(seed):
    """Seed torch inside a forked RNG so the caller's global torch RNG is left as it was."""
    if seed is None:
        yield
        return
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def fit_identifier(estimator, X, y, fit_params, seed):
    """Stage 1: fit ``estimator`` by ERM and predict the training set once.

    ``estimator`` is already cloned and set to train for ``T`` epochs. Its
    prediction pass is the estimator's own: batched, without gradients and in
    eval mode for skorch nets.

    Returns
    -------
    identifier : estimator
        The fitted estimator.
    predictions : ndarray of shape (n_samples,)
        Its predictions on the training rows.
    """
    with seeded_torch(seed), warnings.catch_warnings():
        # Stage 1 stops early on purpose; a ConvergenceWarning is expected, not a problem.
        warnings.simplefilter("ignore", ConvergenceWarning)
        identifier = estimator.fit(X, y, **fit_params)
        check_training_loss(identifier, stage="stage 1 (identification)")
        predictions = np.asarray(identifier.predict(X)).reshape(-1)
    return identifier, predictions


def fit_counted_rows(estimator, X, y, multiplicity, *, strategy, fit_params, seed, shuffle_seed, stage):
    """Fit ``estimator`` with row ``i`` counted ``multiplicity[i]`` times, seeded; check its loss.

    JTT's stage 2 and the group-balanced baseline both train this way.
    ``seed`` fills the estimator's unset ``random_state`` parameters and seeds
    torch (in a forked RNG); ``shuffle_seed`` orders the upsampled rows.
    """
    if seed is not None:
        seed_random_states(estimator, np.random.RandomState(seed))
    with seeded_torch(seed):
        fitted = fit_upsampled(
            estimator, X, y, multiplicity, strategy=strategy, fit_params=fit_params, random_state=shuffle_seed
        )
    check_training_loss(fitted, stage=stage)
    return fitted


def check_training_loss(estimator, stage):
    """Raise if a skorch net's training loss is NaN, infinite, or impossible for its criterion.

    A diverged net predicts one class everywhere; its error set would be
    meaningless, so fail loudly instead of training on it. A negative
    ``NLLLoss`` means the module returns logits, not probabilities: the loss
    then falls without bound while the net learns nothing.
    """
    net, _ = find_skorch_net(estimator)
    if net is None or not len(net.history):
        return
    losses = np.asarray(net.history[:, "train_loss"], dtype=float)
    nll = isinstance(getattr(net, "criterion_", None), torch.nn.NLLLoss)
    bad = ~np.isfinite(losses) | ((losses < -1e-3) if nll else False)
    if bad.any():
        epoch = int(np.flatnonzero(bad)[0]) + 1
        raise ValueError(
            f"The training loss of {stage} became {losses[epoch - 1]:.4g} at epoch {epoch}. "
            "Check the criterion: NeuralNetClassifier's default NLLLoss expects "
            "probabilities, so a module that returns logits needs "
            "criterion=torch.nn.CrossEntropyLoss. Otherwise lower the learning rate or "
            "scale the inputs."
        )
