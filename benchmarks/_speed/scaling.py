"""How the cost grows: time and peak memory against rows and lambda_up, beside hand-written two-stage code."""

import json
import time

import numpy as np
import torch
from sklearn.base import clone

from jtt_sklearn import JTTClassifier

from .common import make_data, peak_rss_mb, run_child


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
    return run_child("--child-scaling", impl, kind, n_rows, lambda_up)


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


def scaling_sizes(args):
    # --quick: two small sizes and two lambda_up values, one fit each: a smoke test.
    if args.quick:
        return {"rows": (2_000, 4_000), "lambdas": (1, 10), "repeats": 1, "lambda_rows": 2_000}
    return {"repeats": 3}
