"""The paper's settings: JTT as the paper ran it on each dataset, and its scripts on tiny copies."""

import dataclasses
import importlib.util
import tempfile
from pathlib import Path

import numpy as np
import pytest

from jtt_sklearn.datasets import DatasetSplits, GroupSplit
from jtt_sklearn.recipes import (
    PAPER_SETTINGS,
    adjusted_average_accuracy,
    make_paper_jtt,
    official_transforms,
    report_paper_run,
    run_paper_setting,
)
from jtt_sklearn.recipes._paper import _SMOKE

from .._fixtures import (
    ignore_weak_identifier,
    minilm_path,
    write_celeba,
    write_civil,
    write_multinli,
    write_waterbirds,
)

torchvision = pytest.importorskip("torchvision")
PAPER_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "paper_settings"


def _smoke_folder():
    """examples/paper_settings/smoke_folder.py as a module: it writes the Waterbirds-format fixtures here."""
    spec = importlib.util.spec_from_file_location("smoke_folder", PAPER_EXAMPLES / "smoke_folder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "dataset, T, lambda_up, epochs",
    [("waterbirds", 60, 101, 300), ("celeba", 1, 51, 50), ("multinli", 2, 5, 5), ("civilcomments", 2, 7, 3)],
)
def test_paper_settings(dataset, T, lambda_up, epochs):
    text = PAPER_SETTINGS[dataset]["kind"] == "text"
    clf = make_paper_jtt(dataset, model_path=minilm_path() if text else None)  # a local folder: no Hub
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
    clf, scores = run_paper_setting(
        dataset, tmp_path, model_path=model_path, smoke=True, verbose=0, out=lines.append
    )
    assert 0.0 <= scores["test_worst_group"] <= scores["test_average"] <= 1.0
    assert ("test_adjusted_average" in scores) == (dataset == "waterbirds")
    assert clf.T == 1 and "validation:" in lines[-3] and "test:" in lines[-2]
    assert lines[-1].startswith("test worst-group accuracy")
    final_net = clf.final_estimator_[-1] if hasattr(clf.final_estimator_, "steps") else clf.final_estimator_
    assert "valid_worst_group" in final_net.history[-1]


def _rows_trained(net):
    """Rows a skorch net trained on, epoch by epoch, from its history."""
    return [sum(batch["train_batch_size"] for batch in epoch["batches"]) for epoch in net.history]


@ignore_weak_identifier  # one epoch of a random ResNet-18: the error set is not the point
def test_the_smoke_run_trains_T_plus_two_short_epochs_on_small_images(tmp_path, monkeypatch):
    n_folder_train = _smoke_folder().write_waterbirds_like(tmp_path, n=60, size=40)  # its training rows
    assert _SMOKE["rows"]["train"] == 128
    monkeypatch.setitem(_SMOKE["rows"], "train", 16)  # the cap, cut to this fixture's scale
    lines = []
    clf, _ = run_paper_setting("waterbirds", tmp_path, smoke=True, verbose=0, out=lines.append)
    n_train, n_errors = clf.sample_multiplicity_.size, clf.error_set_.size
    assert n_train < n_folder_train and n_train <= 18  # the training split was cut to about the cap
    assert f"the smoke run uses {n_train}," in lines[0]
    assert (clf.T, clf.lambda_up) == (_SMOKE["T"], _SMOKE["lambda_up"]) == (1, 3)
    # Stage 1: T epochs over the training rows; stage 2: 2 epochs of n + (lambda_up - 1)|E| rows.
    assert _rows_trained(clf.identifier_) == [n_train]
    assert _rows_trained(clf.final_estimator_) == [n_train + 2 * n_errors] * 2
    assert clf.final_estimator_.batch_size == 32 and clf.identifier_.batch_size == 32
    # At most 1 + 2 x 3 = 7 passes over the (at most about 128) training rows, whatever the error set
    # or the folder's size: under 900 rows at 32 x 32 pixels on a ResNet-18.
    assert sum(_rows_trained(clf.identifier_) + _rows_trained(clf.final_estimator_)) <= 7 * n_train
    assert type(clf.final_estimator_.module_.model).__name__ == "ResNet"
    assert clf.final_estimator_.module_.model.fc.in_features == 512  # ResNet-18, not the paper's ResNet-50


def test_official_waterbirds_and_celeba_transforms():
    from PIL import Image

    image = Image.fromarray(np.full((300, 400, 3), 128, dtype=np.uint8))  # 400 wide, 300 high
    train, evaluation = official_transforms("waterbirds")
    assert train is evaluation  # the official runs train without augmentation
    steps = evaluation.transforms
    assert steps[0].size == (256, 256) and steps[1].size == (224, 224)
    tensor = evaluation(image)
    assert tensor.shape == (3, 224, 224)
    expected = (128 / 255 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(tensor.mean(dim=(1, 2)).numpy(), expected, rtol=1e-5)
    augmented, _ = official_transforms("waterbirds", augment=True)
    crop, flip = augmented.transforms[:2]
    assert (crop.size, crop.scale, crop.ratio) == ((224, 224), (0.7, 1.0), (0.75, 4 / 3))
    assert type(flip).__name__ == "RandomHorizontalFlip" and augmented(image).shape == (3, 224, 224)
    _, celeba = official_transforms("celeba", size=64)
    assert [type(s).__name__ for s in celeba.transforms[:2]] == ["CenterCrop", "Resize"]
    assert celeba.transforms[0].size == (178, 178) and celeba(image).shape == (3, 64, 64)
    assert official_transforms("waterbirds", size=32)[1](image).shape == (3, 32, 32)
    with pytest.raises(ValueError, match="'waterbirds' or 'celeba'"):
        official_transforms("multinli")


def test_adjusted_average_weights_test_groups_by_their_training_share():
    # Training: 6, 1, 1 and 2 rows in groups 0-3 (shares 0.6, 0.1, 0.1, 0.2).
    train_groups = np.repeat([0, 1, 2, 3], [6, 1, 1, 2])
    # Test: 4 rows a group, all labelled 1; right on 4, 2, 0 and 3 of them (accuracies 1, 0.5, 0, 0.75).
    groups = np.repeat([0, 1, 2, 3], 4)
    y = np.ones(16, dtype=int)
    predictions = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0])
    # 0.6 x 1 + 0.1 x 0.5 + 0.1 x 0 + 0.2 x 0.75 = 0.8; the plain test average is 9 / 16.
    value = adjusted_average_accuracy(y, predictions, group_labels=groups, train_group_labels=train_groups)
    assert value == pytest.approx(0.8)

    class Fixed:  # a fitted classifier that returns these predictions on the test rows
        def predict(self, X):
            return predictions if len(X) == 16 else np.ones(len(X), dtype=int)

    X_train = np.zeros((10, 1))
    splits = DatasetSplits(
        GroupSplit(X_train, np.ones(10, dtype=int), train_groups),
        GroupSplit(np.zeros((4, 1)), np.ones(4, dtype=int), np.arange(4)),
        GroupSplit(np.zeros((16, 1)), y, groups),
        name="waterbirds",
        label_names=("landbird", "waterbird"),
        attribute_names=("land", "water"),
    )
    lines = []
    scores = report_paper_run(Fixed(), splits, out=lines.append)
    assert scores["test_adjusted_average"] == pytest.approx(0.8)
    assert scores["test_average"] == pytest.approx(9 / 16) and scores["test_worst_group"] == 0.0
    assert "adjusted average 0.800" in lines[-1]
    celeba = dataclasses.replace(splits, name="celeba")  # test groups as in training: no adjusted figure
    assert "test_adjusted_average" not in report_paper_run(Fixed(), celeba, out=lines.append)
    with pytest.raises(ValueError, match=r"Training groups \[3\] have no test rows"):
        adjusted_average_accuracy(
            y[:12], predictions[:12], group_labels=groups[:12], train_group_labels=train_groups
        )


@ignore_weak_identifier
def test_memory_keeps_stage_1_when_stage_2_crashes(tmp_path, monkeypatch):
    from skorch import NeuralNetClassifier

    _smoke_folder().write_waterbirds_like(tmp_path / "data", n=40, size=32)
    fit = NeuralNetClassifier.fit
    fits = []

    def crash_in_stage_2(net, *args, **kwargs):
        fits.append("final" if "worst_group" in dict(net.callbacks or []) else "stage 1")
        if fits[-1] == "final":
            raise RuntimeError("out of GPU memory")
        return fit(net, *args, **kwargs)

    monkeypatch.setattr(NeuralNetClassifier, "fit", crash_in_stage_2)
    run = dict(smoke=True, memory=tmp_path / "cache", verbose=0, out=lambda line: None)
    with pytest.raises(RuntimeError, match="out of GPU memory"):
        run_paper_setting("waterbirds", tmp_path / "data", **run)
    assert fits == ["stage 1", "final"]
    monkeypatch.setattr(
        NeuralNetClassifier, "fit", lambda net, *args, **kw: fits.append("rerun") or fit(net, *args, **kw)
    )
    clf, _ = run_paper_setting("waterbirds", tmp_path / "data", **run)
    assert fits[2:] == ["rerun"]  # the rerun trained stage 2 only: stage 1 came from the cache
    assert not list((tmp_path / "cache").glob("jtt-fit-*"))  # the checkpoints of the fit are gone


@ignore_weak_identifier
def test_the_paper_run_writes_nothing_outside_its_own_folders(tmp_path, monkeypatch):
    # The suite once left a /tmp/jtt_<dataset>_* folder per make_paper_jtt call (issue 33).
    system_tmp, cwd = tmp_path / "system_tmp", tmp_path / "cwd"
    system_tmp.mkdir()
    cwd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))  # where mkdtemp() and friends write
    monkeypatch.chdir(cwd)
    write_waterbirds(tmp_path / "data")
    validation = (np.zeros((2, 3)), np.array([0, 1]), np.array([0, 1]))
    clf = make_paper_jtt("waterbirds", validation=validation)
    assert dict(clf.final_params["callbacks"])["best"].dirname == ""  # a folder of the fit's own, later
    assert list(system_tmp.iterdir()) == []  # nothing made before fit
    quiet = dict(smoke=True, verbose=0, out=lambda line: None)
    run_paper_setting("waterbirds", tmp_path / "data", **quiet)
    run_paper_setting("waterbirds", tmp_path / "data", memory=tmp_path / "cache", **quiet)
    assert list(system_tmp.iterdir()) == [] and list(cwd.iterdir()) == []
    cache = {p.name for p in (tmp_path / "cache").iterdir()}
    assert "joblib" in cache and not [name for name in cache if name.startswith("jtt-fit-")]  # no checkpoints


def test_the_smoke_run_cuts_each_split_keeping_every_group():
    from jtt_sklearn.recipes._paper import _smoke_splits

    groups = np.repeat([0, 1, 2, 3], [570, 10, 5, 15])  # 600 training rows, Waterbirds-like shares
    y = groups // 2
    split = GroupSplit(np.arange(600)[:, None], y, groups)
    names = dict(name="waterbirds", label_names=("a", "b"), attribute_names=("c", "d"))
    splits = DatasetSplits(split, split, split, **names)
    cut = _smoke_splits(splits, seed=0)
    sizes = [len(part.y) for part in cut]
    assert sizes[0] <= 130 and sizes[1] <= 66 and sizes[2] <= 258  # 128, 64 and 256, give or take rounding
    for part in cut:
        assert set(part.group_labels) == {0, 1, 2, 3}  # a 5-row group keeps at least one row
        np.testing.assert_array_equal(part.y, y[part.X[:, 0]])  # X, y and groups stay aligned
        np.testing.assert_array_equal(part.group_labels, groups[part.X[:, 0]])
    again = _smoke_splits(splits, seed=0)
    np.testing.assert_array_equal(again.train.X, cut.train.X)  # seeded
    small = _smoke_splits(dataclasses.replace(splits, train=GroupSplit(split.X[:50], y[:50], groups[:50])), 0)
    assert len(small.train.y) == 50  # nothing cut below the cap
