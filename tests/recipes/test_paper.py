"""The paper's settings: JTT as the paper ran it on each dataset, and its scripts on tiny copies."""

import pytest

from jtt_sklearn.recipes import PAPER_SETTINGS, make_paper_jtt, run_paper_setting

from .._fixtures import (
    ignore_weak_identifier,
    minilm_path,
    write_celeba,
    write_civil,
    write_multinli,
    write_waterbirds,
)

torchvision = pytest.importorskip("torchvision")


@pytest.mark.parametrize(
    "dataset, T, lambda_up, epochs",
    [("waterbirds", 60, 101, 300), ("celeba", 1, 51, 50), ("multinli", 2, 5, 5), ("civilcomments", 2, 7, 3)],
)
def test_paper_settings(dataset, T, lambda_up, epochs):
    clf = make_paper_jtt(dataset, model_path="unused")
    assert (clf.T, clf.lambda_up) == (T, lambda_up)
    assert lambda_up == PAPER_SETTINGS[dataset]["official_up_weight"] + 1
    max_epochs = (
        clf.base_estimator.get_params().get("max_epochs")
        or clf.base_estimator.get_params()["net__max_epochs"]
    )
    assert max_epochs == epochs
    with pytest.raises(ValueError, match="one of"):
        make_paper_jtt("imagenet")


@pytest.mark.parametrize("dataset", ["waterbirds", "celeba", "multinli", "civilcomments"])
@ignore_weak_identifier
def test_paper_setting_scripts_run_on_tiny_fixtures(dataset, tmp_path):
    writers = {
        "waterbirds": write_waterbirds,
        "celeba": write_celeba,
        "multinli": write_multinli,
        "civilcomments": write_civil,
    }
    writers[dataset](tmp_path)
    model_path = minilm_path() if dataset in ("multinli", "civilcomments") else None
    lines = []
    clf, worst = run_paper_setting(dataset, tmp_path, model_path=model_path, smoke=True, out=lines.append)
    assert 0.0 <= worst <= 1.0
    assert clf.T == 1 and "validation:" in lines[-2] and "test:" in lines[-1]
    final_net = clf.final_estimator_[-1] if hasattr(clf.final_estimator_, "steps") else clf.final_estimator_
    assert "valid_worst_group" in final_net.history[-1]
