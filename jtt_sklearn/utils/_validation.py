"""Checks on the data given to JTTClassifier.fit.

JTTClassifier hands X to its base estimator unchanged (a Pipeline may select
DataFrame columns by name, a skorch net may take a dict of token arrays), so
these checks only look at X; they never convert it.
"""

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _num_samples, column_or_1d

from ._hashing import content_digest


class TrainingData:
    """A fit's checked training data; its content digest (for cache keys) is taken once, on first use.

    Put it in a cache key as it is: the hasher reads ``content_digest_``
    instead of hashing the data again for the second stage.
    """

    def __init__(self, value):
        self.value = value
        self._digest = None

    @property
    def content_digest_(self):
        if self._digest is None:
            self._digest = content_digest(self.value)
        return self._digest


def is_torch_dataset(X):
    try:
        from torch.utils.data import Dataset
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return False
    return isinstance(X, Dataset)


def is_dataset_view(X):
    """A ``skorch.helper.SliceDataset``: a Dataset's rows as scikit-learn's searches index them."""
    from skorch.helper import SliceDataset

    return isinstance(X, SliceDataset)


def is_dict_data(X):
    # scipy's dok_matrix subclasses dict, but it is a sparse matrix.
    return isinstance(X, dict) and not sp.issparse(X)


def is_array_data(X):
    """True for array-likes that scikit-learn itself can validate (not dicts or Datasets)."""
    return not is_dict_data(X) and not is_torch_dataset(X) and not is_dataset_view(X)


def n_rows(X):
    """Number of rows of X: arrays, DataFrames, lists, dicts of arrays, torch Datasets."""
    if is_dict_data(X):
        if not X:
            raise ValueError("X is an empty dict; pass a dict of arrays with one row per sample.")
        lengths = {key: _num_samples(value) for key, value in X.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(
                f"The arrays in the dict X have different numbers of rows: {lengths}. "
                "Every value must hold one row per sample."
            )
        return next(iter(lengths.values()))
    if is_torch_dataset(X) or is_dataset_view(X):
        return len(X)
    return _num_samples(X)


def dataset_labels(dataset):
    """Labels of a torch Dataset: its ``targets`` or ``y`` attribute, else read row by row.

    Row views (``Subset``, ``ConcatDataset``, ``SliceDataset``) take their
    labels from the Datasets they view, so no image is opened for them.
    """
    from skorch.helper import SliceDataset
    from torch.utils.data import ConcatDataset, Subset

    if isinstance(dataset, (Subset, SliceDataset)):
        indices = dataset.indices if isinstance(dataset, Subset) else dataset.indices_
        return dataset_labels(dataset.dataset)[np.asarray(indices, dtype=np.intp)]
    if isinstance(dataset, ConcatDataset):
        return np.concatenate([dataset_labels(part) for part in dataset.datasets])
    for attribute in ("targets", "y"):
        labels = getattr(dataset, attribute, None)
        if labels is not None:
            return np.asarray(labels)
    # Reading every item loads every image once; datasets should expose `targets`.
    return np.asarray([_to_numpy(dataset[i][1]) for i in range(len(dataset))])


def _to_numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def check_X(X, *, finite=False, ensure_2d=False, estimator_name="JTTClassifier"):
    """Check what JTT needs of X: rows to count and index. The base estimator validates the rest.

    Rejects empty and complex X without converting it; NaN, infinity and
    sparse matrices are the base estimator's to accept or refuse (a Pipeline
    may impute them). ``finite`` refuses NaN and infinity too, for a base
    that never checks its input (a bare skorch net). ``ensure_2d`` is set at
    predict time when fit saw 2-d data, so that 1-d X gets scikit-learn's
    "Reshape your data" advice. Returns X, unchanged, as :class:`TrainingData`.
    """
    data = TrainingData(X)
    if not is_array_data(X):
        return data
    if finite:
        check_finite(X)
    if _is_tensor(X):
        _check_tensor(X, ensure_2d=ensure_2d)
        return data
    check_array(
        X,
        accept_sparse=True,
        dtype=None,
        ensure_2d=ensure_2d,
        allow_nd=True,
        ensure_all_finite=False,
        ensure_min_features=1 if getattr(X, "ndim", 2) >= 2 else 0,
        estimator=estimator_name,
    )
    return data


def check_finite(X):
    """Refuse NaN or infinity in dense numeric X (an array or a tensor), for bases that never check it."""
    if _is_tensor(X):
        import torch

        finite = not X.is_floating_point() or bool(torch.isfinite(X).all())
    elif isinstance(X, np.ndarray) and X.dtype.kind in "fc":
        finite = bool(np.isfinite(X).all())
    else:
        return
    if not finite:
        raise ValueError(
            "Input X contains NaN or infinity, which the base net would pass to torch unchecked: "
            "impute them first (e.g. make_pipeline(SimpleImputer(), net)), or use a base that "
            "handles NaN, such as HistGradientBoostingClassifier."
        )


def _is_tensor(X):
    import torch

    return isinstance(X, torch.Tensor)


def _check_tensor(X, *, ensure_2d):
    """check_array's checks for a torch tensor, on its own device: never a copy through numpy."""
    if X.ndim == 0 or X.shape[0] == 0:
        raise ValueError(f"Found a tensor X of shape {tuple(X.shape)}; JTTClassifier needs at least one row.")
    if ensure_2d and X.ndim == 1:
        raise ValueError(
            f"Expected a 2D tensor, got a 1D tensor of shape {tuple(X.shape)}. Reshape your data with "
            "X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single row."
        )
    if X.is_complex():
        raise ValueError("Complex data not supported; pass a real-valued tensor.")


def check_targets(X, y):
    """Return y as a 1-d array, checked against X and for at least two classes."""
    if y is None:
        if not is_torch_dataset(X):
            raise ValueError(
                "JTTClassifier requires y to be passed, but the target y is None. "
                "Pass the class labels of the training rows (or a torch Dataset that yields them)."
            )
        y = dataset_labels(X)
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    n_X, n_y = n_rows(X), y.shape[0]
    if n_X != n_y:
        raise ValueError(
            f"X and y have different numbers of rows: X has {n_X}, y has {n_y}. "
            "Pass one label per training row."
        )
    n_classes = np.unique(y).shape[0]
    if n_classes < 2:
        raise ValueError(
            f"y contains only one class ({np.unique(y)[0]}); a classifier needs at least "
            "two classes. Check that the training labels were loaded correctly."
        )
    return y


def encode_labels(X: Any, y: Any, *, for_net: bool = True, classes: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Check y against X; return ``(y for the base estimator, classes)``.

    scikit-learn estimators get ``y`` as it is, so that label-valued settings
    (``class_weight={"spam": 5}``) mean what they mean on the estimator
    alone. Only a skorch net (``for_net``) needs class indices ``0..K-1``:
    the labels' positions in ``classes`` (the net's own ``classes`` setting
    when given, else the sorted labels). A torch Dataset serves its own
    labels to the net, so they must already be ``0..K-1``.
    """
    y = check_targets(X, y)
    if is_torch_dataset(X):
        found = np.unique(y)
        if not np.array_equal(found, np.arange(found.size)):
            raise ValueError(
                f"A torch Dataset must yield integer labels 0..n_classes-1; got classes "
                f"{found[:10]}. Encode the labels (sklearn.preprocessing.LabelEncoder) "
                "before building the Dataset."
            )
    if not for_net:
        return y, np.unique(y)
    if classes is None:
        encoder = LabelEncoder().fit(y)
        return encoder.transform(y).astype(np.int64), encoder.classes_
    classes = np.asarray(classes)
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size or np.unique(classes).size != classes.size:
        raise ValueError(
            f"The net's classes={classes.tolist()} sets the order of its output columns, but y holds "
            f"{unknown[:5].tolist()}, which it does not name (or it names a class twice). List every "
            "label once in classes, or leave classes=None to use the sorted labels."
        )
    positions = {label: index for index, label in enumerate(classes.tolist())}
    return np.array([positions[label] for label in y.tolist()], dtype=np.int64), classes


def check_indexable_rows(X):
    """Raise unless JTT itself can index the rows of X (arrays, DataFrames, lists, sparse matrices)."""
    if not is_array_data(X):
        raise ValueError(
            "upsampling='index' needs X to be an array, a DataFrame or a list; for dicts "
            "of arrays or torch Datasets use a skorch net (upsampling='sampler')."
        )
