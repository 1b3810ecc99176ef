"""Fit an estimator as if row ``i`` appeared ``multiplicity[i]`` times, without copying X.

Three strategies, in order of preference:

- ``"sampler"``: a skorch net (alone or as a Pipeline's final step) gets
  :class:`UpsamplingDataLoader` as ``iterator_train``; batches are drawn from
  the repeated, reshuffled indices each epoch.
- ``"sample_weight"``: estimators whose ``fit`` takes ``sample_weight`` (or a
  Pipeline whose final step does) get the integer multiplicities as weights
  (times any user weights).
- ``"index"``: everything else is fitted on ``X[np.repeat(rows, multiplicity)]``.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.validation import _num_samples, has_fit_parameter

from ._estimator_params import find_skorch_net
from ._sampling import UpsamplingDataLoader
from ._stage_checks import check_index_data, check_iterator_train

STRATEGIES = ("sampler", "sample_weight", "index")


def resolve_upsampling(estimator, upsampling="auto"):
    """The upsampling strategy used for ``estimator`` (see the module docstring)."""
    net, _ = find_skorch_net(estimator)
    supports = {
        "sampler": net is not None,
        "sample_weight": sample_weight_param(estimator) is not None,
        "index": True,
    }
    if upsampling == "auto":
        return next(name for name in STRATEGIES if supports[name])
    if not supports[upsampling]:
        reason = {
            "sampler": "it is not a skorch net nor a Pipeline ending in one",
            "sample_weight": "its fit method has no sample_weight parameter (a Pipeline "
            "takes one for its final step only with metadata routing off)",
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
        key = sample_weight_param(estimator)
        weights = multiplicity.astype(np.float64)
        if fit_params.get(key) is not None:
            weights = weights * np.asarray(fit_params[key], dtype=np.float64)
        return estimator.fit(X, y, **{**fit_params, key: weights})
    check_index_data(X)
    if sp.issparse(X) and X.format not in ("csr", "csc"):
        X = X.tocsr()  # coo, dia, bsr, dok cannot be indexed by rows
    elif not hasattr(X, "__getitem__"):
        X = np.asarray(X)  # array-likes that only implement __array__
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


def sample_weight_param(estimator):
    """The fit parameter that takes per-row weights: ``sample_weight``, ``step__sample_weight``, or None.

    A Pipeline passes ``laststep__sample_weight`` on to its final estimator.
    With metadata routing on, Pipelines only take routed parameters, so they
    fall back to index copies.
    """
    if has_fit_parameter(estimator, "sample_weight"):
        return "sample_weight"
    steps = getattr(estimator, "steps", None)
    if steps and not _routing_enabled():
        name, last = steps[-1]
        inner = sample_weight_param(last)
        if inner is not None:
            return f"{name}__{inner}"
    return None


def _is_row_aligned(value, n_samples):
    try:
        return not np.isscalar(value) and _num_samples(value) == n_samples
    except TypeError:
        return False


def _install_upsampling_loader(estimator, multiplicity, random_state):
    net, prefix = find_skorch_net(estimator)
    check_iterator_train(net)
    estimator.set_params(
        **{
            f"{prefix}iterator_train": UpsamplingDataLoader,
            f"{prefix}iterator_train__multiplicity": multiplicity,
            f"{prefix}iterator_train__random_state": random_state,
            f"{prefix}iterator_train__shuffle": True,
        }
    )
