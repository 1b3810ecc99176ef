"""Fixtures shared by several test modules."""

import pytest


@pytest.fixture
def trainings(monkeypatch):
    """The JTT stages that trained, in order: each enters stage_training once per training."""
    import jtt_sklearn._identification as identification
    import jtt_sklearn._upsampling as upsampling

    trained = []
    for module, name in ((identification, "stage 1"), (upsampling, "stage 2")):
        original = module.stage_training

        def counted(*args, _original=original, _name=name, **kwargs):
            trained.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, "stage_training", counted)
    return trained
