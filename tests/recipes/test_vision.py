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
