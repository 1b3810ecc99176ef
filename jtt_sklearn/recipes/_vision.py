"""A skorch net around a torchvision model, with weights from a file you supply."""

from __future__ import annotations

import os
from typing import Any

import torch
from skorch import NeuralNetClassifier
from torch import nn


def _replace_last_linear(model, num_classes):
    """Swap the model's last Linear layer (its classification head) for one with num_classes outputs."""
    name, layer = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
    setattr(parent, name.rpartition(".")[2], nn.Linear(layer.in_features, num_classes))
    return model


class TorchvisionClassifier(nn.Module):
    """A torchvision architecture with a fresh ``num_classes`` head.

    Nothing is downloaded: the network starts from random weights, or from
    ``weights_path``, a ``state_dict`` saved with ``torch.save`` (for
    example ImageNet weights you already have). The weights are loaded
    before the head is replaced, so a 1000-class ImageNet file works.

    Parameters
    ----------
    arch : str, default="resnet50"
        Name of a constructor in :mod:`torchvision.models`.
    num_classes : int, default=2
        Outputs of the new head (logits).
    weights_path : str or path-like, default=None
        A state dict for ``arch`` with its original head.
    """

    def __init__(
        self, arch: str = "resnet50", num_classes: int = 2, weights_path: str | os.PathLike[str] | None = None
    ) -> None:
        super().__init__()
        import torchvision

        constructor = getattr(torchvision.models, arch, None)
        if constructor is None:
            raise ValueError(
                f"torchvision.models has no architecture {arch!r}; see torchvision.models.list_models()."
            )
        model = constructor(weights=None)
        if weights_path is not None:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
            try:
                model.load_state_dict(state)
            except RuntimeError as error:
                raise ValueError(
                    f"{weights_path} does not hold a state dict of torchvision's {arch} with its "
                    f"original head: {error}"
                ) from error
        self.model = _replace_last_linear(model, num_classes)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        # float64 images (numpy's default) meet float32 weights; a no-op for float32 input.
        if X.is_floating_point():
            X = X.to(next(self.model.parameters()).dtype)
        return self.model(X)


def make_vision_net(
    arch: str = "resnet50",
    *,
    weights_path: str | os.PathLike[str] | None = None,
    num_classes: int = 2,
    lr: float = 1e-5,
    weight_decay: float = 1.0,
    momentum: float = 0.9,
    batch_size: int = 64,
    max_epochs: int = 300,
    device: str = "cpu",
    num_workers: int = 0,
    **net_params: Any,
) -> NeuralNetClassifier:
    """A skorch classifier around a torchvision model, with the JTT paper's Waterbirds optimiser.

    SGD with momentum 0.9, learning rate 1e-5 and weight decay 1.0, batch 64,
    cross-entropy on logits, and no internal validation split (JTT needs
    every training row; validation is the group-labelled split). Give it to
    :class:`~jtt_sklearn.JTTClassifier`, whose ``T`` sets ``max_epochs`` of
    the identification net. Images come from a torch Dataset such as
    :class:`~jtt_sklearn.datasets.ImageFolderDataset`, which loads lazily and
    works with JTT's index-based upsampling.

    Parameters
    ----------
    arch : str, default="resnet50"
        torchvision architecture.
    weights_path : str or path-like, default=None
        Pretrained weights (a state dict file); None starts from random weights.
    num_classes : int, default=2
        Number of classes.
    lr, weight_decay, momentum : float
        SGD settings; the defaults are the paper's for Waterbirds.
    batch_size : int, default=64
    max_epochs : int, default=300
        Training length of the final model.
    device : str, default="cpu"
        ``"cuda"`` on a GPU.
    num_workers : int, default=0
        DataLoader workers, for datasets that read images from disk.
    **net_params
        Any other :class:`skorch.NeuralNetClassifier` parameter.

    Returns
    -------
    net : skorch.NeuralNetClassifier

    Examples
    --------
    >>> from jtt_sklearn.recipes import make_vision_net
    >>> net = make_vision_net("resnet18", num_classes=2, max_epochs=1)
    >>> net.optimizer__momentum, net.optimizer__weight_decay, net.lr
    (0.9, 1.0, 1e-05)
    """
    loader_params = {}
    if num_workers:
        loader_params = {
            "iterator_train__num_workers": num_workers,
            "iterator_valid__num_workers": num_workers,
            "iterator_train__pin_memory": str(device).startswith("cuda"),
            "iterator_valid__pin_memory": str(device).startswith("cuda"),
        }
    params = dict(
        module=TorchvisionClassifier,
        module__arch=arch,
        module__num_classes=num_classes,
        module__weights_path=None if weights_path is None else str(weights_path),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.SGD,
        optimizer__momentum=momentum,
        optimizer__weight_decay=weight_decay,
        lr=lr,
        batch_size=batch_size,
        max_epochs=max_epochs,
        train_split=None,
        device=device,
        verbose=0,
        **loader_params,
    )
    params.update(net_params)
    return NeuralNetClassifier(**params)
