"""Stage 2: train with row ``i`` counted ``multiplicity[i]`` times, without copying X where possible.

Three strategies, in order of preference:

- ``"sampler"``: a skorch net (alone or as a Pipeline's final step) gets
  :class:`~jtt_sklearn.utils.UpsamplingDataLoader` as ``iterator_train``;
  batches are drawn from the repeated, reshuffled indices each epoch.
- ``"sample_weight"``: estimators whose ``fit`` takes ``sample_weight`` get the
  integer multiplicities as weights (times any user weights), unless settings
  that count rows (``min_samples_leaf``, ``bootstrap``, ...) make a weight
  differ from copies.
- ``"index"``: everything else is fitted on ``X[np.repeat(rows, multiplicity)]``,
  and so is a Pipeline with fitted steps before a scikit-learn final step:
  every step sees each error row ``lambda_up`` times, with metadata routing
  on or off (a weight would reach the last step only). A Pipeline ending in a
  skorch net keeps the sampler: its earlier steps see each row once.
"""

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.validation import _num_samples, has_fit_parameter

from ._cache import call_cached
from ._skorch import check_iterator_train, checkpoint_files, find_skorch_net
from ._training import stage_training
from .utils._sampling import UpsamplingDataLoader, upsampling_multiplicity
from .utils._validation import check_indexable_rows
from .utils._warnings import warn_user

STRATEGIES = ("sampler", "sample_weight", "index")

# Settings under which an integer sample weight is not the same as that many copies of the row:
# they count rows (leaf and split sizes, bootstrap and subsample draws), not weights. Each maps to
# the values that keep weights and copies equal.
_COUNT_BASED_PARAMS: dict[str, set[Any]] = {
    "min_samples_leaf": {1},
    "min_samples_split": {2},
    "bootstrap": {False},
    "max_samples": {None},
    "subsample": {1.0},
}


def weights_differ_from_copies(estimator):
    """The parameters under which a weight of k is not k copies of a row, as ``{name: value}``."""
    found = {}
    for key, value in estimator.get_params(deep=True).items():
        name = key.rsplit("__", 1)[-1]
        equal = _COUNT_BASED_PARAMS.get(name)
        if equal is not None and not any(
            value is v or (type(value) is type(v) and value == v) for v in equal
        ):
            found[key] = value
    return found


def resolve_upsampling(estimator, upsampling="auto"):
    """The upsampling strategy used for ``estimator`` (see the module docstring)."""
    net, _ = find_skorch_net(estimator)
    supports = {
        "sampler": net is not None,
        "sample_weight": sample_weight_param(estimator) is not None,
        "index": True,
    }
    if upsampling == "auto":
        if supports["sampler"]:
            return "sampler"
        # A weight reaches a Pipeline's last step only, and the steps before it would see each error row
        # once; copies reach every step, with metadata routing on or off alike.
        if _fits_steps_before_the_last(estimator) or weights_differ_from_copies(estimator):
            return "index"
        return "sample_weight" if supports["sample_weight"] else "index"
    if upsampling == "sample_weight" and supports["sample_weight"]:
        differ = weights_differ_from_copies(estimator)
        if differ:
            warn_user(
                f"upsampling='sample_weight' with {differ}: these settings count rows, not weights, so "
                "an error row weighted lambda_up is not the same as lambda_up copies of it. "
                "upsampling='auto' or 'index' fits on copies.",
                UserWarning,
            )
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


def _fits_steps_before_the_last(estimator):
    """A Pipeline (possibly nested) with a step before its last one that is fitted on the data."""
    steps = getattr(estimator, "steps", None)
    if not steps:
        return False
    fitted = [step for _, step in steps[:-1] if step not in (None, "passthrough") and get_tags(step).requires_fit]
    return bool(fitted) or _fits_steps_before_the_last(steps[-1][1])


def sample_weight_param(estimator):
    """The fit parameter that takes per-row weights: ``sample_weight``, ``step__sample_weight``, or None.

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


def fit_final_model(
    final, X, y, error_set, lambda_up, *, strategy, fit_params, seed, shuffle_seed, stage, memory, progress
):
    """Stage 2: fit ``final`` with each row of ``error_set`` counted ``lambda_up`` times; return it and the counts.

    Through ``memory``, a refit of a candidate a search already trained is
    loaded, not trained. The key is everything that determines the fit: the
    seeded estimator, the data (``X``, a
    :class:`~jtt_sklearn.utils._validation.TrainingData`), the multiplicities
    (the error set and ``lambda_up``), the strategy, the fit parameters and the
    seeds. The files that the net's own ``Checkpoint`` callbacks wrote are
    kept with the entry and written again on a hit, so
    ``load_params(checkpoint=cp)`` reads this fit's weights either way.
    """
    n_rows = y.size + (lambda_up - 1) * error_set.size  # Python ints: no overflow
    check_epoch_fits_in_memory(X.value, n_rows, strategy, lambda_up=lambda_up, n_errors=error_set.size)
    multiplicity = upsampling_multiplicity(y.size, error_set, lambda_up)
    settings = dict(strategy=strategy, fit_params=fit_params, seed=seed, shuffle_seed=shuffle_seed, stage=stage)
    fitted, checkpoint_files = call_cached(
        memory, _fit_upsampled_keeping_checkpoints, final, X.value, y, multiplicity, callbacks=progress,
        **settings, key=(stage, final, X, y, multiplicity, settings),
    )  # fmt: skip
    for path, content in checkpoint_files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(content)
    return fitted, multiplicity


def _fit_upsampled_keeping_checkpoints(estimator, X, y, multiplicity, **settings):
    """:func:`fit_upsampled`, and the bytes of the files its ``Checkpoint`` callbacks left behind."""
    fitted = fit_upsampled(estimator, X, y, multiplicity, **settings)
    return fitted, {path: Path(path).read_bytes() for path in checkpoint_files(fitted) if Path(path).is_file()}


def fit_upsampled(
    estimator,
    X,
    y,
    multiplicity,
    *,
    strategy,
    fit_params,
    seed,
    shuffle_seed,
    stage,
    callbacks=None,
):
    """Fit ``estimator`` with row ``i`` counted ``multiplicity[i]`` times; return it.

    JTT's stage 2 and the group-balanced baseline train this way. ``seed``
    seeds torch (in a forked RNG); ``shuffle_seed`` orders the upsampled rows.
    """
    with stage_training(
        estimator, X, n_classes=np.unique(y).size, stage=stage, seed=seed, callbacks=callbacks
    ):
        if strategy == "sampler":
            _install_upsampling_loader(estimator, multiplicity, shuffle_seed)
            return estimator.fit(X, y, **fit_params)
        if strategy == "sample_weight":
            key = sample_weight_param(estimator)
            weights = multiplicity.astype(np.float64)
            if fit_params.get(key) is not None:
                weights = weights * np.asarray(fit_params[key], dtype=np.float64)
            return estimator.fit(X, y, **{**fit_params, key: weights})
        check_indexable_rows(X)
        if sp.issparse(X) and X.format not in ("csr", "csc"):
            X = X.tocsr()  # coo, dia, bsr, dok cannot be indexed by rows
        elif not hasattr(X, "__getitem__"):
            X = np.asarray(X)  # array-likes that only implement __array__
        # Shuffled so that estimators which do not shuffle never see blocks of copies.
        rows = np.random.RandomState(shuffle_seed).permutation(
            np.repeat(np.arange(len(multiplicity)), multiplicity)
        )
        row_params = {
            key: _safe_indexing(value, rows) if _is_row_aligned(value, len(multiplicity)) else value
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
    check_iterator_train(net)
    estimator.set_params(
        **{
            f"{prefix}iterator_train": UpsamplingDataLoader,
            f"{prefix}iterator_train__multiplicity": multiplicity,
            f"{prefix}iterator_train__random_state": random_state,
            f"{prefix}iterator_train__shuffle": True,
        }
    )


def check_epoch_fits_in_memory(X, n_rows, strategy, *, lambda_up, n_errors, available=None):
    """Refuse an upsampled epoch of ``n_rows`` rows that cannot fit in memory, before anything is allocated.

    The sampler builds an index array of that length each epoch; the index
    strategy copies that many rows of X. Integer sample weights cost nothing
    extra, so they are not checked.
    """
    if strategy == "sample_weight":
        return
    row_bytes = 8 if strategy == "sampler" else 8 + _bytes_per_row(X)
    needed = n_rows * row_bytes
    available = available_memory() if available is None else available
    if n_rows > np.iinfo(np.int64).max or (available is not None and needed > available):
        free = f"{available / 2**30:.1f} GiB are available" if available is not None else "that is too many"
        raise ValueError(
            f"lambda_up={lambda_up} with {n_errors} error rows makes one epoch of stage 2 "
            f"{n_rows:,} rows (n + (lambda_up - 1) * |E|), which needs about "
            f"{needed / 2**30:,.1f} GiB for its {'row indices' if strategy == 'sampler' else 'copied rows'}, "
            f"but {free}. Use a smaller lambda_up, or a base estimator whose fit takes "
            "sample_weight (upsampling='sample_weight' counts rows at no memory cost)."
        )


def _bytes_per_row(X):
    n_samples = max(_num_samples(X), 1)
    if sp.issparse(X):  # copied as CSR: a value and a column index per stored entry
        return max(1, X.nnz * (X.dtype.itemsize + 8) // n_samples)
    nbytes = getattr(X, "nbytes", None)
    if nbytes is None and hasattr(X, "memory_usage"):  # pandas
        nbytes = int(np.sum(X.memory_usage(deep=False)))
    if nbytes is None:
        return 8  # a list: at least a pointer per row
    return max(1, int(nbytes) // n_samples)


def available_memory():
    """Bytes of memory available to this process (Linux: MemAvailable and the cgroup limit), or None."""
    limits = []
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as limit, open("/sys/fs/cgroup/memory.current") as used:
            maximum = limit.read().strip()
            if maximum != "max":
                limits.append(int(maximum) - int(used.read().strip()))
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None
