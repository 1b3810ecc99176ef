"""Seed torch, or fork the global RNGs, for one block of work without touching the caller's streams."""

import contextlib
import random

import numpy as np
import torch


@contextlib.contextmanager
def seeded_torch(seed):
    """Seed torch inside a forked RNG so the caller's global torch RNG is left as it was."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=_cuda_devices()):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def forked_rngs():
    """Run a block on copies of the global RNG states (torch, numpy, random); restore them after.

    A prediction pass made in the middle of training (ErrorSetRecorder) then
    draws the random numbers that a pass made at that point of a shorter run
    would draw, and leaves the training run's own stream untouched.
    """
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        with torch.random.fork_rng(devices=_cuda_devices()):
            yield
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)


def _cuda_devices():
    """Every CUDA device, so that forking covers their RNGs too (none on a CPU machine)."""
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


def seed_random_states(estimator, random_state):
    """Give every unset ``random_state`` parameter of ``estimator`` an int from ``random_state``.

    ``random_state`` is a :class:`numpy.random.RandomState`. Parameters the
    user fixed to an int are left alone; ``None`` and ``RandomState``
    instances are replaced so that refits are reproducible.
    """
    to_set = {
        key: int(random_state.randint(np.iinfo(np.int32).max))
        for key, value in sorted(estimator.get_params(deep=True).items())
        if (key == "random_state" or key.endswith("__random_state"))
        and (value is None or isinstance(value, np.random.RandomState))
    }
    if to_set:
        estimator.set_params(**to_set)
    return estimator
