"""Overhead: JTTClassifier.fit against the same two stages written by hand in skorch; a cached refit."""

import tempfile
import time

import numpy as np
import torch
from joblib import Memory
from sklearn.base import clone
from torch.utils.data import SubsetRandomSampler

from jtt_sklearn import JTTClassifier

from .common import alternate, make_data, make_net


def hand_written_jtt(base, X, y, T, lambda_up, seed):
    """The two trainings of JTT written directly with skorch and torch, for comparison.

    The nets fetch batches as JTTClassifier's do (``use_batch_fetching``), so
    the ratio measures what JTTClassifier adds, not skorch's per-row dataset.
    """
    from jtt_sklearn._skorch import use_batch_fetching

    torch.manual_seed(seed)
    base = use_batch_fetching(clone(base))
    identifier = clone(base).set_params(max_epochs=T).fit(X, y)
    errors = np.flatnonzero(identifier.predict(X) != y)
    rows = np.concatenate([np.arange(len(y)), np.repeat(errors, lambda_up - 1)])
    final = clone(base).set_params(
        iterator_train__shuffle=False, iterator_train__sampler=SubsetRandomSampler(rows)
    )
    return final.fit(X, y)


def measure_overhead(n_rows, n_features, repeats):
    X, y = make_data(n_rows, n_features, seed=1)
    base = make_net(n_features, max_epochs=3)
    times, _ = alternate(
        {
            "hand": lambda: hand_written_jtt(base, X, y, T=1, lambda_up=20, seed=0),
            "jtt": lambda: JTTClassifier(base, T=1, lambda_up=20, random_state=0).fit(X, y),
        },
        repeats,
    )
    result = {key: float(np.median(value)) for key, value in times.items()}
    result["ratio"] = result["jtt"] / result["hand"]
    print(f"overhead: {result}", flush=True)
    return result


def measure_cached_fit(n_rows, n_features, repeats):
    """A fit against a second identical fit on the same ``memory``: what a refit after a search costs."""
    X, y = make_data(n_rows, n_features, seed=1)
    base = make_net(n_features, max_epochs=3)
    times = {"first": [], "second": []}
    identical = True
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            # A fresh cache per repeat, so each first fit trains both stages and each second loads them.
            predictions = []
            for key in times:
                clf = JTTClassifier(base, T=1, lambda_up=20, memory=Memory(cache, verbose=0), random_state=0)
                start = time.perf_counter()
                clf.fit(X, y)
                times[key].append(time.perf_counter() - start)
                predictions.append(clf.predict(X))
            identical &= bool(np.array_equal(*predictions))
    result = {key: float(np.median(value)) for key, value in times.items()}
    result["ratio"] = result["second"] / result["first"]
    result["identical_predictions"] = identical
    result["repeats"] = repeats
    print(f"cached fit: {result}", flush=True)
    return result


def overhead_section(overhead, repeats):
    return f"""**Overhead** (median of {repeats} runs; target at most 1.05): JTTClassifier.fit
{overhead["jtt"]:.2f} s against {overhead["hand"]:.2f} s for the same two trainings written by hand in
skorch, on the same batch-fetching dataset: ratio **{overhead["ratio"]:.3f}**."""


def cached_fit_section(cached_fit):
    if not cached_fit:
        return "**A second identical fit**: not run."
    return (
        f"**A second identical fit** (the same workload, `memory=` on a fresh cache, median of "
        f"{cached_fit['repeats']} pairs; target under 0.1): the first fit {cached_fit['first']:.2f} s, "
        f"the second {cached_fit['second']:.3f} s, served by the stage-1 and final-stage caches: "
        f"**{cached_fit['ratio']:.3f}** of a fit; identical predictions: "
        f"{cached_fit['identical_predictions']}."
    )
