"""verbose: which stage runs, a bar over each stage's epochs, and nothing at verbose=0 (issue 14)."""

import re

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from torch import nn

from jtt_sklearn import JTTClassifier

from ._nets import make_net


@pytest.fixture
def data():
    X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    return X.astype(np.float32), y


def test_verbose_1_names_each_stage_and_its_size(data, capsys):
    X, y = data
    clf = JTTClassifier(make_net(max_epochs=3), T=2, lambda_up=4, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    n_rows = len(y) + 3 * clf.error_set_.size
    assert "[JTT] stage 1/2: identification, max_epochs=2" in out
    assert f"[JTT] stage 2/2: final model, {n_rows} rows per epoch (lambda_up=4)" in out
    assert f"{clf.error_set_.size} of {len(y)} rows misclassified" in out
    assert out.index("stage 1/2") < out.index("stage 1 done") < out.index("stage 2/2") < out.index("stage 2 done")


def test_verbose_1_with_T_grid_and_sample_weight(data, tmp_path, capsys):
    X, y = data
    JTTClassifier(make_net(), T=1, T_grid=[1, 3], memory=tmp_path, verbose=1, random_state=0).fit(X, y)
    assert "identification, 3 epochs, recording T in [1, 3] (T=1)" in capsys.readouterr().out
    JTTClassifier(LogisticRegression(), T=2, verbose=1).fit(X, y)
    assert "rows counted by sample_weight" in capsys.readouterr().out


def test_verbose_2_shows_the_epochs_of_each_stage(data, capsys, monkeypatch):
    import jtt_sklearn.callbacks._progress as progress

    monkeypatch.setattr(progress, "_tqdm", lambda **kwargs: None)  # the plain-line fallback
    X, y = data
    JTTClassifier(make_net(max_epochs=3), T=2, verbose=2, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    lines = re.findall(r"\[JTT\] (stage [12]/2): epoch (\d+)/(\d+), train_loss", err)
    assert lines == [("stage 1/2", "1", "2"), ("stage 1/2", "2", "2")] + [("stage 2/2", str(e), "3") for e in (1, 2, 3)]


def test_verbose_2_uses_tqdm_and_leaves_no_callback_behind(data, capsys):
    pytest.importorskip("tqdm")
    X, y = data
    clf = JTTClassifier(make_net(max_epochs=2), T=1, verbose=2, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "stage 1/2" in err and "stage 2/2" in err and "epoch" in err
    for net in (clf.identifier_, clf.final_estimator_):
        assert not any(name.startswith("jtt_") for name, _ in net.callbacks_)


def test_verbose_0_prints_nothing(data, capsys):
    X, y = data
    JTTClassifier(make_net(), T=1, random_state=0).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_does_not_change_the_cache_key(data, tmp_path):
    X, y = data
    JTTClassifier(make_net(), T=1, memory=tmp_path, random_state=0).fit(X, y)
    entries = sorted(p.parent.name for p in tmp_path.rglob("output.pkl"))
    JTTClassifier(make_net(), T=1, memory=tmp_path, verbose=2, random_state=0).fit(X, y)
    assert sorted(p.parent.name for p in tmp_path.rglob("output.pkl")) == entries


def test_float64_into_a_users_float32_net_says_to_cast(data):
    X, y = data
    net = make_net(module=nn.Linear, module__in_features=5, module__out_features=2)
    with pytest.raises(TypeError, match=r"float64.*astype\(np\.float32\)"):
        JTTClassifier(net, T=1).fit(X.astype(np.float64), y)
    assert JTTClassifier(net, T=3).fit(X, y).predict(X).shape == y.shape  # float32 trains
