"""Fit an estimator as if row ``i`` appeared ``multiplicity[i]`` times, without copying X.

Three strategies, in order of preference:

- ``"sampler"``: a skorch net (alone or as a Pipeline's final step) gets
  :class:`UpsamplingDataLoader` as ``iterator_train``; batches are drawn from
  the repeated, reshuffled indices each epoch.
- ``"sample_weight"``: estimators whose ``fit`` takes ``sample_weight`` get the
  integer multiplicities as weights (times any user weights).
- ``"index"``: everything else is fitted on ``X[np.repeat(rows, multiplicity)]``.
"""

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, has_fit_parameter
from torch.utils.data import DataLoader

from ._estimator_params import find_skorch_net
from ._sampling import UpsamplingDataLoader
from ._validation import is_array_data

STRATEGIES = ("sampler", "sample_weight", "index")


def resolve_upsampling(estimator, upsampling="auto"):
    """The upsampling strategy used for ``estimator`` (see the module docstring)."""
    net, _ = find_skorch_net(estimator)
    supports = {
        "sampler": net is not None,
        "sample_weight": has_fit_parameter(estimator, "sample_weight"),
        "index": True,
    }
    if upsampling == "auto":
        return next(name for name in STRATEGIES if supports[name])
    if not supports[upsampling]:
        reason = {
            "sampler": "it is not a skorch net nor a Pipeline ending in one",
            "sample_weight": "its fit method has no sample_weight parameter",
        }[upsampling]
        raise ValueError(
            f"upsampling={upsampling!r} cannot be used with {type(estimator).__name__}: "
            f"{reason}. Use upsampling='auto'."
        )
    return upsampling


def fit_upsampled(estimator, X, y, multiplicity, *, strategy, fit_params, random_state):
    """Fit ``estimator`` with row ``i`` counted ``multiplicity[i]`` times; return it."""
    if strategy == "sampler":
        _install_upsampling_loader(estimator, multiplicity, random_state)
        return estimator.fit(X, y, **fit_params)
    if strategy == "sample_weight":
        weights = multiplicity.astype(np.float64)
        if fit_params.get("sample_weight") is not None:
            weights = weights * np.asarray(fit_params["sample_weight"], dtype=np.float64)
        return estimator.fit(X, y, **{**fit_params, "sample_weight": weights})
    if not is_array_data(X):
        raise ValueError(
            "upsampling='index' needs X to be an array, a DataFrame or a list; for dicts "
            "of arrays or torch Datasets use a skorch net (upsampling='sampler')."
        )
    # Shuffled so that estimators which do not shuffle never see blocks of copies.
    rows = np.random.RandomState(random_state).permutation(
        np.repeat(np.arange(len(multiplicity)), multiplicity)
    )
    n_samples = len(multiplicity)
    row_params = {
        key: _safe_indexing(value, rows) if _is_row_aligned(value, n_samples) else value
        for key, value in fit_params.items()
    }
    return estimator.fit(_safe_indexing(X, rows), _safe_indexing(y, rows), **row_params)


def _is_row_aligned(value, n_samples):
    try:
        return not np.isscalar(value) and _num_samples(value) == n_samples
    except TypeError:
        return False


def _install_upsampling_loader(estimator, multiplicity, random_state):
    net, prefix = find_skorch_net(estimator)
    if net.iterator_train not in (DataLoader, UpsamplingDataLoader):
        raise ValueError(
            f"The base net uses a custom iterator_train ({net.iterator_train!r}); JTT's "
            "sampler upsampling replaces it with UpsamplingDataLoader. Use the default "
            "DataLoader, or pass upsampling='index' to JTTClassifier."
        )
    estimator.set_params(
        **{
            f"{prefix}iterator_train": UpsamplingDataLoader,
            f"{prefix}iterator_train__multiplicity": multiplicity,
            f"{prefix}iterator_train__random_state": random_state,
            f"{prefix}iterator_train__shuffle": True,
        }
    )
