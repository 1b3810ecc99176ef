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
import os
import platform
import sys
import time
from pathlib import Path

import torch

from _report import write_section  # benchmarks/ is on sys.path when a script runs
from _speed.grid import grid_notes, grid_section, measure_grid_reuse
from _speed.halving import halving_datasets, halving_section, measure_halving
from _speed.memory import _peak_rss_child, measure_memory, memory_section
from _speed.overhead import cached_fit_section, measure_cached_fit, measure_overhead, overhead_section
from _speed.parallel import measure_n_jobs, n_jobs_section
from _speed.raw import RAW_WORKLOADS, measure_raw_ratio, raw_section
from _speed.scaling import _scaling_child, measure_scaling, plot_scaling, scaling_section, scaling_sizes

ROOT = Path(__file__).resolve().parents[1]


WORKLOAD = (
    "Workloads: memory, {mem_rows:,} rows x 2,048 float32 features, a linear skorch net (1 epoch per "
    "stage, batch 512) or SGDClassifier (3 iterations), T=1; overhead, {over_rows:,} x 64, 3 epochs, T=1, "
    "lambda_up=20; grid, {grid_rows:,} x 32, final nets 2 epochs."
)


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
    repeats = args_repeats(args)
    section = f"""## Speed and memory

Command: `{" ".join(["python benchmarks/speed.py", *args])}`,
on {platform.machine()} with {os.cpu_count()} cores, torch {torch.__version__}, {time.strftime("%Y-%m-%d")}.
{workload}

{memory_section(memory)}

{raw_section(raw, repeats)}

{overhead_section(overhead, repeats)}

{cached_fit_section(cached_fit)}

{grid_section(grid)}

{halving_section(halving)}

{n_jobs_section(n_jobs)}

{scaling_section(scaling)}

{grid_notes(grid)}"""
    write_section(path, "speed", section)


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


if __name__ == "__main__":
    main()
