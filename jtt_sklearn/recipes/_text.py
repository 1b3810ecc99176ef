"""A transformers sequence classifier as a skorch net, tokenised inside a Pipeline."""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import Callback, GradientNormClipping
from torch import nn


_MODEL_HINT = " Pass model_path, or config for a randomly initialised model."


def _local_folder(path: str | os.PathLike[str] | None, what: str, hint: str = "") -> str:
    """``path`` as a string, or a ValueError when it is not a local folder.

    ``from_pretrained`` takes a name that is not a folder for a model on the
    Hugging Face Hub and tries to download it (for about 50 s, offline): the
    recipes download nothing, so they refuse such a name at once.
    """
    if path is not None and os.path.isdir(path):
        return str(path)
    got = "none was given" if path is None else f"{os.fspath(path)!r} is not a folder"
    raise ValueError(
        f"{what} is read from a local folder and nothing is downloaded; {got}.{hint} To use a model "
        "of the Hugging Face Hub, save it to a folder once where there is internet (for example "
        '`AutoTokenizer.from_pretrained("bert-base-uncased").save_pretrained("bert-base-uncased")` '
        "and the same with AutoModelForSequenceClassification) and pass that folder."
    )


class HuggingfaceSequenceClassifier(nn.Module):
    """``AutoModelForSequenceClassification`` returning logits, for a skorch net.

    Parameters
    ----------
    model_path : str or path-like, default=None
        A local directory ``from_pretrained`` reads (nothing is downloaded;
        a name that is not a folder raises ``ValueError``).
    num_labels : int, default=2
        Number of classes.
    config : transformers.PretrainedConfig, default=None
        Build a randomly initialised model from this config instead of
        loading ``model_path`` (small configs make fast tests).
    """

    def __init__(
        self, model_path: str | os.PathLike[str] | None = None, num_labels: int = 2, config: Any = None
    ) -> None:
        super().__init__()
        from transformers import AutoModelForSequenceClassification

        if config is not None:
            config.num_labels = num_labels
            self.model = AutoModelForSequenceClassification.from_config(config)
        else:
            self.model = AutoModelForSequenceClassification.from_pretrained(
                _local_folder(model_path, "The model", _MODEL_HINT),
                num_labels=num_labels,
                local_files_only=True,
            )

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **inputs: Any
    ) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **inputs).logits


def _linear_factor(step, warmup, total):
    if step < warmup:
        return (step + 1) / max(warmup, 1)
    return max(0.0, (total - step) / max(total - warmup, 1))


class LinearSchedule(Callback):
    """Linear warm-up, then linear decay of the learning rate to 0, stepped every batch.

    The number of steps is read from the training loader when training
    starts, so it counts the upsampled epochs of JTT's final stage.

    Parameters
    ----------
    warmup_ratio : float, default=0.0
        Share of all steps spent warming up.
    """

    # The schedule's length is read from max_epochs: a longer run is not a shorter one continued.
    sized_by_max_epochs = True
    scheduler_: torch.optim.lr_scheduler.LambdaLR | None

    def __init__(self, warmup_ratio: float = 0.0) -> None:
        self.warmup_ratio = warmup_ratio

    def on_train_begin(self, net: NeuralNet, **kwargs: Any) -> None:
        self.scheduler_ = None

    def on_epoch_begin(self, net: NeuralNet, dataset_train: Any = None, **kwargs: Any) -> None:
        if self.scheduler_ is None:
            total = len(net.get_iterator(dataset_train, training=True)) * net.max_epochs
            factor = functools.partial(_linear_factor, warmup=int(self.warmup_ratio * total), total=total)
            self.scheduler_ = torch.optim.lr_scheduler.LambdaLR(net.optimizer_, factor)

    def on_batch_end(self, net: NeuralNet, training: bool = False, **kwargs: Any) -> None:
        if training:
            assert self.scheduler_ is not None, "on_epoch_begin creates the scheduler"
            self.scheduler_.step()


def join_sentence_pairs(X: ArrayLike, sep: str = " [SEP] ") -> np.ndarray:
    """Turn an (n, 2) array of (premise, hypothesis) into n strings joined by ``sep``."""
    X = np.asarray(X, dtype=object)
    if X.ndim == 1:
        return X
    return np.array([sep.join(map(str, row)) for row in X], dtype=object)


def make_text_pipeline(
    model_path: str | os.PathLike[str] | None = None,
    *,
    num_labels: int = 2,
    max_length: int = 128,
    lr: float = 2e-5,
    weight_decay: float = 0.0,
    batch_size: int = 32,
    max_epochs: int = 3,
    warmup_ratio: float = 0.0,
    clip: float = 1.0,
    device: str = "cpu",
    config: Any = None,  # a transformers.PretrainedConfig
    tokenizer_path: str | os.PathLike[str] | None = None,
    **net_params: Any,
) -> Pipeline:
    """Tokeniser + BERT-style classifier as one scikit-learn Pipeline, in the paper's text setting.

    AdamW, a linear learning-rate schedule, gradient clipping at 1.0 and
    cross-entropy on logits; tokenisation happens inside the Pipeline with
    skorch's ``HuggingfacePretrainedTokenizer``, so ``X`` is raw text (an
    (n, 2) array of sentence pairs is joined with ``[SEP]`` first). Wrap the
    Pipeline in :class:`~jtt_sklearn.JTTClassifier`: ``T`` sets
    ``net__max_epochs`` of the identification net. Nothing is downloaded:
    ``model_path`` and ``tokenizer_path`` are local directories, and a Hub
    name such as ``"bert-base-uncased"`` raises ``ValueError`` at once.

    Parameters
    ----------
    model_path : str or path-like, default=None
        Local model directory (``AutoModelForSequenceClassification``), also
        the tokenizer's unless ``tokenizer_path`` is given. May be None with
        ``config`` and ``tokenizer_path``.
    num_labels : int, default=2
    max_length : int, default=128
        Tokens per text (truncation and padding).
    lr, weight_decay : float
        AdamW settings (the paper: lr 1e-5 or 2e-5).
    batch_size : int, default=32
    max_epochs : int, default=3
    warmup_ratio : float, default=0.0
    clip : float, default=1.0
        Gradient-norm clipping.
    device : str, default="cpu"
    config : transformers.PretrainedConfig, default=None
        A random-init model from this config instead of ``model_path``'s weights.
    tokenizer_path : str or path-like, default=None
        Tokenizer directory when it differs from ``model_path`` (needed with
        ``config`` and no ``model_path``).
    **net_params
        Other :class:`skorch.NeuralNetClassifier` parameters.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``pairs``, ``tokenizer``, ``net``.

    Raises
    ------
    ValueError
        If the tokenizer's directory (``tokenizer_path``, else
        ``model_path``), or without ``config`` the model's, is not a local
        folder.
    """
    from skorch.hf import HuggingfacePretrainedTokenizer

    # Checked here, not at fit: skorch's tokenizer would look a missing folder up on the Hub.
    tokenizer_hint = (
        " Pass tokenizer_path (config= builds the model, not the tokenizer)." if config is not None else ""
    )
    tokenizer_folder = _local_folder(tokenizer_path or model_path, "The tokenizer", tokenizer_hint)
    if config is None:
        _local_folder(model_path, "The model", _MODEL_HINT)

    params = dict(
        module=HuggingfaceSequenceClassifier,
        module__model_path=None if model_path is None else str(model_path),
        module__num_labels=num_labels,
        module__config=config,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        optimizer__weight_decay=weight_decay,
        lr=lr,
        batch_size=batch_size,
        max_epochs=max_epochs,
        train_split=None,
        callbacks=[("clip", GradientNormClipping(clip)), ("schedule", LinearSchedule(warmup_ratio))],
        device=device,
        verbose=0,
    )
    params.update(net_params)
    return Pipeline(
        [
            ("pairs", FunctionTransformer(join_sentence_pairs)),
            (
                "tokenizer",
                HuggingfacePretrainedTokenizer(tokenizer_folder, max_length=max_length),
            ),
            ("net", NeuralNetClassifier(**params)),
        ]
    )
