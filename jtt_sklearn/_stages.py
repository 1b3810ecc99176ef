"""The work of each JTT stage, as plain functions (stage 1 is cached through joblib.Memory)."""

import contextlib
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning


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
        predictions = np.asarray(identifier.predict(X)).reshape(-1)
    return identifier, predictions
