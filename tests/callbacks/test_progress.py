"""verbose=2: a bar (or, without tqdm, a line) over each stage's epochs, and no callback left behind."""

import re

import pytest

from jtt_sklearn import JTTClassifier

from .._fixtures import float32_classification
from .._nets import make_net


@pytest.fixture
def data():
    return float32_classification(100, 5)


def test_verbose_2_shows_the_epochs_of_each_stage(data, capsys, monkeypatch):
    import jtt_sklearn.callbacks._progress as progress

    monkeypatch.setattr(progress, "_tqdm", lambda **kwargs: None)  # the plain-line fallback
    X, y = data
    JTTClassifier(make_net(max_epochs=3), T=2, verbose=2, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    lines = re.findall(r"\[JTT\] (stage [12]/2): epoch (\d+)/(\d+), train_loss", err)
    assert lines == [("stage 1/2", "1", "2"), ("stage 1/2", "2", "2")] + [
        ("stage 2/2", str(e), "3") for e in (1, 2, 3)
    ]


def test_verbose_2_uses_tqdm_and_leaves_no_callback_behind(data, capsys):
    pytest.importorskip("tqdm")
    X, y = data
    clf = JTTClassifier(make_net(max_epochs=2), T=1, verbose=2, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "stage 1/2" in err and "stage 2/2" in err and "epoch" in err
    for net in (clf.identifier_, clf.final_estimator_):
        assert not any(name.startswith("jtt_") for name, _ in net.callbacks_)
