"""Seed torch for one block of work without touching the caller's global RNG."""

import contextlib

import torch


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
