"""Checks of stage 2 that can run before it trains: its settings, and the size of its epoch."""

import inspect

import numpy as np
import scipy.sparse as sp
from torch.utils.data import DataLoader

from ._estimator_params import find_skorch_net
from ._sampling import UpsamplingDataLoader
from ._validation import is_array_data

# skorch passes these prefixed parameters to the class of the same name.
_SKORCH_COMPONENTS = ("module", "criterion", "optimizer", "iterator_train", "iterator_valid", "dataset")
# Prefixed names skorch consumes itself rather than passing to the class.
_SKORCH_OWN = {"optimizer__param_groups"}


def check_stage_params(estimator, X, *, strategy, stage):
    """Raise for settings of ``estimator`` that would fail only once it trains on ``X``.

    Index upsampling needs array-like X. For a skorch net, prefixed
    parameters must be taken by the class they go to.

    skorch only passes ``module__*`` (and ``optimizer__*``, ...) on when it
    initialises the net, so a typo in ``final_params`` would surface after
    all of stage 1. Classes whose ``__init__`` takes ``**kwargs`` are not
    checked. With the sampler, ``iterator_train`` becomes JTT's
    :class:`UpsamplingDataLoader`, which must be able to replace the user's.
    """
    if strategy == "index":
        check_index_data(X)
    net, prefix = find_skorch_net(estimator)
    if net is None:
        return
    if strategy == "sampler":
        check_iterator_train(net)
    params = net.get_params(deep=False)
    for component in _SKORCH_COMPONENTS:
        target = UpsamplingDataLoader if component == "iterator_train" and strategy == "sampler" else params.get(component)
        accepted = _init_params(target)
        if accepted is None:
            continue
        for key in sorted(params):
            name = key[len(component) + 2 :]
            if key.startswith(component + "__") and key not in _SKORCH_OWN and "__" not in name and name not in accepted:
                raise ValueError(
                    f"{stage} sets {prefix}{key}, but {target.__name__} takes no argument "
                    f"{name!r} (it takes {sorted(accepted)}). Fix the name in final_params or the "
                    "base estimator; skorch would only find out after stage 1 has trained."
                )


def check_index_data(X):
    if not is_array_data(X):
        raise ValueError(
            "upsampling='index' needs X to be an array, a DataFrame or a list; for dicts "
            "of arrays or torch Datasets use a skorch net (upsampling='sampler')."
        )


def check_iterator_train(net):
    """The sampler path replaces ``iterator_train`` and its sampler: refuse what it cannot replace."""
    if net.iterator_train not in (DataLoader, UpsamplingDataLoader):
        raise ValueError(
            f"The base net uses a custom iterator_train ({net.iterator_train!r}); JTT's "
            "sampler upsampling replaces it with UpsamplingDataLoader. Use the default "
            "DataLoader, or pass upsampling='index' to JTTClassifier."
        )
    set_samplers = [key for key in ("iterator_train__sampler", "iterator_train__batch_sampler") if key in net.get_params()]
    if set_samplers:
        raise ValueError(
            f"The base net sets {set_samplers}, which JTT's upsampling replaces. Remove it, or "
            "pass upsampling='index' to JTTClassifier."
        )


def _init_params(cls):
    """Names ``cls.__init__`` takes, or None when it cannot tell (not a class, or **kwargs)."""
    if not isinstance(cls, type):
        return None
    names = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        try:
            signature = inspect.signature(klass.__init__)
        except (TypeError, ValueError):
            return None
        kinds = {p.kind for p in signature.parameters.values()}
        names |= {p.name for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if inspect.Parameter.VAR_KEYWORD not in kinds:
            return names - {"self"}
        if klass is not UpsamplingDataLoader:
            return None  # **kwargs of a user's class: anything may be fine
    return None


def check_upsampled_epoch(X, n_samples, n_errors, lambda_up, strategy, available=None):
    """Refuse an upsampled epoch that cannot fit in memory, before anything is allocated.

    One epoch of stage 2 counts ``n + (lambda_up - 1) * |E|`` rows. The
    sampler builds an index array of that length each epoch; the index
    strategy copies that many rows of X. Integer sample weights cost
    nothing extra, so they are not checked.

    Returns
    -------
    n_rows : int
        Rows in one upsampled epoch.
    """
    n_rows = n_samples + (lambda_up - 1) * n_errors  # Python ints: no overflow
    if strategy == "sample_weight":
        return n_rows
    row_bytes = 8 if strategy == "sampler" else 8 + _bytes_per_row(X, n_samples)
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
    return n_rows


def _bytes_per_row(X, n_samples):
    if sp.issparse(X):  # copied as CSR: a value and a column index per stored entry
        return max(1, X.nnz * (X.dtype.itemsize + 8) // max(n_samples, 1))
    nbytes = getattr(X, "nbytes", None)
    if nbytes is None and hasattr(X, "memory_usage"):  # pandas
        nbytes = int(np.sum(X.memory_usage(deep=False)))
    if nbytes is None:
        return 8  # a list: at least a pointer per row
    return max(1, int(nbytes) // max(n_samples, 1))


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
