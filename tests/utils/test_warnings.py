"""JTT's warnings point at the caller's line, and fits in threads leave the warning filters as they were."""

import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from jtt_sklearn import JTTClassifier

from .._fixtures import float32_classification, ignore_convergence
from .._nets import make_net


@pytest.fixture
def data():
    return float32_classification(120, 6)


class WaitingLogisticRegression(LogisticRegression):
    """Stage 1 of the fit with C=1 enters first and leaves first; C=2 enters second, leaves second."""

    events = {}

    def fit(self, X, y, sample_weight=None):
        if sample_weight is None:  # stage 1
            events = type(self).events
            if self.C == 1:
                events["first_in"].set()
                events["second_in"].wait(10)
            else:
                events["first_in"].wait(10)
                events["second_in"].set()
                events["first_done"].wait(10)
        return super().fit(X, y, sample_weight=sample_weight)


@ignore_convergence
def test_fits_in_threads_leave_the_warning_filters_as_they_were(data):
    X, y = data
    WaitingLogisticRegression.events = {
        name: threading.Event() for name in ("first_in", "second_in", "first_done")
    }
    filters = list(warnings.filters)
    errors = []

    def fit(C):
        try:
            JTTClassifier(WaitingLogisticRegression(C=C), T=1, random_state=0).fit(X, y)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            if C == 1:
                WaitingLogisticRegression.events["first_done"].set()

    threads = [threading.Thread(target=fit, args=(C,)) for C in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert warnings.filters == filters


def test_warnings_point_at_the_callers_line(data, tmp_path):
    X, y = data
    with pytest.warns(UserWarning) as record:
        JTTClassifier(
            make_net(max_epochs=6, train_split=lambda X, y: (X, X)), T=1, T_grid=[1], random_state=0
        ).fit(X, y)
    assert record.list and {Path(w.filename).name for w in record.list} == {Path(__file__).name}
    with pytest.warns(UserWarning) as record:
        weak = DummyClassifier(strategy="uniform", random_state=0)  # worse than the majority class
        JTTClassifier(weak, T=None).fit(X, (np.arange(len(y)) % 4 == 0).astype(int))
    assert {Path(w.filename).name for w in record.list} == {Path(__file__).name}
