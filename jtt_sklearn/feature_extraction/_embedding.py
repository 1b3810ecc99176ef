"""A scikit-learn transformer that embeds images, texts or a torch Dataset once with a frozen backbone."""

from __future__ import annotations

import contextlib
import numbers
import os
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar

import numpy as np
import torch
from joblib import Memory
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_memory
from torch import nn
from torch.utils.data import DataLoader, Dataset, IterableDataset
from torch.utils.data.dataloader import default_collate

from .._base import fit_context
from .._cache import call_cached

_Embedder = TypeVar("_Embedder", bound="PretrainedEmbedder")

_AUTOCAST_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}

_ACCEPTED = (
    "a torch Dataset whose items are inputs or (input, label) pairs, a skorch SliceDataset, an array "
    "or tensor of shape (n_samples, ...) (images as (n, C, H, W)), or a list of strings"
)


class PretrainedEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Embed images, texts or a torch Dataset with a frozen pretrained backbone, once.

    The transformer of the frozen-feature path: every input goes through
    ``backbone`` once, in batches, in eval mode and without gradients, and
    comes out as one row of a float32 array. JTT, ERM and the oracle
    baselines then search on those rows at the cost of a small head
    (a logistic regression or an MLP) instead of fine-tuning the network
    for every candidate. Nothing is learnt: ``fit`` only builds the
    backbone and records the width of its output.

    With ``memory``, the embeddings of an input are stored under a key made
    from its content and the backbone's, and served from disk by later
    calls, also in a new Python session: the same images embedded again
    cost a hash of the data and of the weights. See
    :doc:`/feature_extraction` for when to use this path and when to
    fine-tune.

    Parameters
    ----------
    backbone : torch.nn.Module or callable
        A module that maps a batch of inputs to one feature vector per
        input (a tensor of shape ``(batch, ...)``, flattened to
        ``(batch, n_features)``), or a callable without arguments that
        returns one (built at ``fit``, so that cloning the embedder copies
        no weights). Ready-made, all read from local files:
        :func:`efficientnet_lite0_backbone`, :func:`torchvision_backbone`
        and :func:`huggingface_backbone`. A module given here is used as it
        is, not copied: it is moved to ``device``, and its train/eval mode
        is put back after each call. A model name (a string) is refused:
        nothing is downloaded.
    batch_size : int, default=64
        Inputs per forward pass. Only this many inputs are read into
        memory at a time.
    device : str or torch.device, default="cpu"
        Where the backbone runs, e.g. ``"cuda"``.
    num_workers : int, default=0
        DataLoader workers reading a torch Dataset (images decoded from
        files); arrays and lists are sliced directly.
    memory : str, path-like or joblib.Memory, default=None
        Cache of the embeddings. A path makes a ``joblib.Memory`` there.
        The key is the input's content (arrays and tensors by value, texts
        by value, a Dataset of files by the files' paths, sizes and
        modification times and by its transform, a ``SliceDataset`` or
        ``Subset`` by the rows it selects), the backbone's weights and
        buffers, the classes of its modules and their settings, and
        ``dtype``. ``batch_size``, ``device`` and ``num_workers`` are not
        part of it: they change the result by float rounding at most.
    dtype : {"float16", "bfloat16"} or None, default=None
        Run the forward pass under ``torch.autocast`` in this precision
        (on a GPU, ``"bfloat16"`` is about twice as fast). None runs in
        the backbone's own precision. The output is float32 either way.

    Attributes
    ----------
    backbone_ : torch.nn.Module
        The backbone in use: ``backbone``, or what it returned.
    n_features_out_ : int
        Columns of the output.

    See Also
    --------
    jtt_sklearn.recipes.make_efficientnet_lite0_net : The fine-tuning path.

    Examples
    --------
    >>> import torch
    >>> from jtt_sklearn.feature_extraction import PretrainedEmbedder
    >>> backbone = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 5))
    >>> images = torch.rand(10, 3, 8, 8)
    >>> PretrainedEmbedder(backbone, batch_size=4).fit_transform(images).shape
    (10, 5)

    In front of a classifier, with the embeddings cached on disk:

    >>> import tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> cache = tempfile.mkdtemp()
    >>> model = make_pipeline(PretrainedEmbedder(backbone, memory=cache), LogisticRegression())
    >>> model.fit(images, [0, 1] * 5).predict(images).shape
    (10,)
    """

    _parameter_constraints: dict = {
        "backbone": [callable, str],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "num_workers": [Interval(numbers.Integral, 0, None, closed="left")],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "dtype": [None, StrOptions(set(_AUTOCAST_DTYPES))],
    }

    def __init__(
        self,
        backbone: nn.Module | Callable[[], nn.Module],
        *,
        batch_size: int = 64,
        device: str | torch.device = "cpu",
        num_workers: int = 0,
        memory: str | os.PathLike[str] | Any | None = None,
        dtype: Literal["float16", "bfloat16"] | None = None,
    ) -> None:
        self.backbone = backbone
        self.batch_size = batch_size
        self.device = device
        self.num_workers = num_workers
        self.memory = memory
        self.dtype = dtype

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self: _Embedder, X: Any, y: ArrayLike | None = None) -> _Embedder:
        """Build the backbone and record the width of its output (from the first input).

        Parameters
        ----------
        X : torch Dataset, SliceDataset, array-like or list of str
            Inputs, as :meth:`transform` takes them; only the first is read.
        y : None
            Ignored.

        Returns
        -------
        self : PretrainedEmbedder
        """
        self._build_backbone()
        first = _Inputs(X).head(1)
        if not len(first):
            raise ValueError("X has no rows: fit needs at least one input to learn the output width.")
        self.n_features_out_ = self._embed(first).shape[1]
        return self

    @fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: ArrayLike | None = None, **fit_params: Any) -> np.ndarray:
        """Build the backbone and embed X (one pass: the output gives the width).

        Parameters
        ----------
        X : torch Dataset, SliceDataset, array-like or list of str
            Inputs, as :meth:`transform` takes them.
        y : None
            Ignored.
        **fit_params
            Ignored.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features_out_), dtype float32
        """
        self._build_backbone()
        inputs = _Inputs(X)
        if not len(inputs):
            raise ValueError("X has no rows: fit needs at least one input to learn the output width.")
        embeddings = self._cached_embed(inputs)
        self.n_features_out_ = embeddings.shape[1]
        return embeddings

    def transform(self, X: Any) -> np.ndarray:
        """Embed every input of X, batch by batch.

        Parameters
        ----------
        X : torch Dataset, SliceDataset, array-like or list of str
            A map-style torch Dataset whose items are inputs or
            ``(input, label, ...)`` tuples (the first element is embedded),
            read through a DataLoader with ``num_workers``; a skorch
            ``SliceDataset`` (what scikit-learn searches pass for a
            Dataset), whose items are the inputs; an array or tensor of
            shape ``(n_samples, ...)``; or a list (or 1-D array) of strings
            for a text backbone.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features_out_), dtype float32
        """
        check_is_fitted(self, "backbone_")
        inputs = _Inputs(X)
        if not len(inputs):
            return np.empty((0, self.n_features_out_), dtype=np.float32)
        return self._cached_embed(inputs)

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.string = True
        return tags

    # --- building and running the backbone -------------------------------------------------------

    def _build_backbone(self):
        backbone = self.backbone
        if isinstance(backbone, str):
            raise ValueError(
                f"backbone={backbone!r}: a name is not a model, and nothing is downloaded. Pass a module "
                "or a function that builds one, e.g. huggingface_backbone(<local model folder>), "
                "torchvision_backbone(arch, weights_path=<state dict file>) or "
                "efficientnet_lite0_backbone (jtt_sklearn.feature_extraction)."
            )
        if not isinstance(backbone, nn.Module):
            backbone = backbone()
            if not isinstance(backbone, nn.Module):
                raise TypeError(
                    f"backbone() returned a {type(backbone).__name__}; it must return a torch.nn.Module."
                )
        self.backbone_ = backbone

    def _cached_embed(self, inputs):
        # A path-like goes to joblib as it is: Memory(Path) and Memory(str) file their entries differently.
        if isinstance(self.memory, os.PathLike):
            memory = Memory(self.memory, verbose=0)
        else:
            memory = check_memory(self.memory)
        key = (inputs.value, _backbone_state(self.backbone_), self.dtype)
        return call_cached(memory, _embed_rows, self, inputs, key=key)

    def _embed(self, inputs):
        """The backbone's output for every input, written batch by batch into one float32 array."""
        backbone, device = self.backbone_, torch.device(self.device)
        backbone.to(device)
        floating = next((p.dtype for p in backbone.parameters() if p.is_floating_point()), None)
        out = None
        start = 0
        with _eval_mode(backbone), torch.inference_mode(), self._autocast(device):
            for batch in inputs.batches(self.batch_size, self.num_workers, device):
                features = _check_output(backbone(_to_device(batch, device, floating)), _batch_len(batch))
                if out is None:
                    out = np.empty((len(inputs), features.shape[1]), dtype=np.float32)
                elif features.shape[1] != out.shape[1]:
                    raise ValueError(
                        f"The backbone returned {features.shape[1]} features for one batch and "
                        f"{out.shape[1]} for an earlier one; it must return the same width for every input."
                    )
                out[start : start + len(features)] = features.float().cpu().numpy()
                start += len(features)
        assert out is not None and start == len(out)
        return out

    def _autocast(self, device):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=_AUTOCAST_DTYPES[self.dtype])


def _embed_rows(embedder, inputs):
    """What the cache stores, filed under this function's name and keyed by content (``call_cached``)."""
    return embedder._embed(inputs)


def _backbone_state(backbone):
    """What the embeddings depend on besides the input: each module's class and settings, and the weights.

    Settings are the modules' plain public attributes (a convolution's kernel
    size, a pooling mode); the train/eval flag is left out, since embedding
    always runs in eval mode.
    """
    structure = [
        (name, type(module), _plain_settings(module)) for name, module in backbone.named_modules()
    ]
    return structure, backbone.state_dict()


def _plain_settings(module):
    return sorted(
        (key, value)
        for key, value in vars(module).items()
        if not key.startswith("_") and key != "training" and _is_plain(value)
    )


def _is_plain(value):
    if isinstance(value, (tuple, list)):
        return all(_is_plain(item) for item in value)
    return value is None or isinstance(value, (bool, int, float, str))


@contextlib.contextmanager
def _eval_mode(module):
    """Eval mode inside the block; each submodule's train/eval flag as it was afterwards."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for submodule, training in modes:
            submodule.training = training


def _to_device(batch, device, floating):
    """Tensors moved to ``device`` (floating ones cast to the backbone's dtype); strings left as they are."""
    if isinstance(batch, torch.Tensor):
        if batch.is_floating_point() and floating is not None:
            return batch.to(device=device, dtype=floating, non_blocking=True)
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {key: _to_device(value, device, floating) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)) and not all(isinstance(item, str) for item in batch):
        return type(batch)(_to_device(item, device, floating) for item in batch)
    return batch


def _batch_len(batch):
    if isinstance(batch, dict):
        return _batch_len(next(iter(batch.values())))
    if isinstance(batch, (list, tuple)) and batch and not isinstance(batch[0], str):
        return _batch_len(batch[0])
    return len(batch)


def _check_output(features, n):
    if not isinstance(features, torch.Tensor):
        raise TypeError(
            f"The backbone returned a {type(features).__name__}; it must return a tensor of shape "
            "(batch, n_features). Wrap a model that returns several outputs in a module that picks one."
        )
    if features.ndim == 0 or features.shape[0] != n:
        raise ValueError(
            f"The backbone returned shape {tuple(features.shape)} for a batch of {n} inputs; it must "
            "return one feature vector per input, (batch, n_features)."
        )
    return features.reshape(n, -1)


def _first_element(batch):
    """default_collate over the inputs of (input, label, ...) items; the labels are not read."""
    return default_collate([item[0] if isinstance(item, (tuple, list)) else item for item in batch])


def _is_slice_dataset(X):
    try:
        from skorch.helper import SliceDataset
    except ImportError:  # pragma: no cover - skorch is a hard dependency
        return False
    return isinstance(X, SliceDataset)


class _Inputs:
    """X as one of the kinds the embedder reads, with its length and its batches."""

    def __init__(self, X):
        if isinstance(X, IterableDataset):
            raise TypeError(
                "X is an IterableDataset, which has no length or row order to cache or search over; "
                f"pass {_ACCEPTED}."
            )
        if _is_slice_dataset(X):
            self.kind, self.value = "dataset", X
            self.collate = default_collate  # a SliceDataset's items are already the inputs
        elif isinstance(X, Dataset):
            if not hasattr(X, "__len__"):
                raise TypeError(f"X is a {type(X).__name__} without __len__; pass {_ACCEPTED}.")
            self.kind, self.value, self.collate = "dataset", X, _first_element
        elif isinstance(X, torch.Tensor):
            self.kind, self.value = "array", X
        elif isinstance(X, str):
            raise TypeError(f"X is a single string; pass a list of strings (one per row): {_ACCEPTED}.")
        elif isinstance(X, (list, tuple)) and X and all(isinstance(item, str) for item in X):
            self.kind, self.value = "texts", list(X)
        else:
            self._from_array(X)
        if self.kind == "array" and self.value.ndim < 2:
            raise ValueError(
                f"X has shape {tuple(self.value.shape)}: one row per input is needed, (n_samples, ...). "
                f"Pass {_ACCEPTED}."
            )

    def _from_array(self, X):
        try:
            array = np.asarray(X)
        except (TypeError, ValueError) as error:
            raise TypeError(f"X is a {type(X).__name__}, which cannot be read: pass {_ACCEPTED}.") from error
        if array.dtype.kind in "US" or (
            array.dtype.kind == "O" and array.ndim == 1 and all(isinstance(t, str) for t in array)
        ):
            if array.ndim != 1:
                raise ValueError(
                    f"X holds strings in shape {array.shape}; pass a list of strings, one per row "
                    "(join sentence pairs first, e.g. with jtt_sklearn.recipes.join_sentence_pairs)."
                )
            self.kind, self.value = "texts", [str(t) for t in array]
        elif array.dtype.kind in "biuf":
            self.kind, self.value = "array", array
        else:
            raise TypeError(f"X is a {type(X).__name__} of {array.dtype} values; pass {_ACCEPTED}.")

    def __len__(self):
        return len(self.value)

    def head(self, n):
        """The first ``n`` inputs, of the same kind."""
        head = object.__new__(_Inputs)
        head.kind = self.kind
        if self.kind == "dataset":
            head.value = torch.utils.data.Subset(self.value, range(min(n, len(self))))
            head.collate = self.collate
        else:
            head.value = self.value[:n]
        return head

    def batches(self, batch_size, num_workers, device) -> Iterator[Any]:
        """Batches of at most ``batch_size`` inputs; only one batch (per worker) is read at a time."""
        if self.kind == "dataset":
            yield from DataLoader(
                self.value,
                batch_size=batch_size,
                shuffle=False,
                num_workers=num_workers,
                collate_fn=self.collate,
                pin_memory=device.type == "cuda",
            )
            return
        for start in range(0, len(self), batch_size):
            batch = self.value[start : start + batch_size]
            if self.kind == "array":
                if isinstance(batch, np.ndarray):
                    batch = torch.as_tensor(np.ascontiguousarray(batch))
            yield batch
