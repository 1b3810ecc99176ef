"""The frozen-feature path against fine-tuning, on mnist_on_backgrounds: the same searches, timed whole.

Both paths run the same methods under the same protocol, the one
``benchmarks/quality.py`` ran its fine-tuned image task with until
2026-12-02: ERM; JTT searched over T in {1, 2} x lambda_up in {1, 5, 20}
(lambda_up=1 once: it is ERM whatever T) by worst-group validation accuracy
with ``tune_on_validation`` and refitted on the training rows; the
group-balanced oracle; Group DRO searched over eta in {0.01, 0.1}. The
fine-tuned path trains EfficientNet-Lite0 end to end for every fit (Adam
3e-4, batch 32, 5 epochs, 64 px). The frozen path embeds the train,
validation and test images once with the same ImageNet-trained
EfficientNet-Lite0 through ``PretrainedEmbedder`` and trains an MLP head on
the 1,280 features (30 epochs, batch 64) for every fit. The wall time of a
path runs from loading the data to the test scores of all four methods,
embedding included. Writes its section of ``docs/results.md`` (between the
``frozen`` markers).

    python benchmarks/frozen_vs_finetuned.py --runs-dir /work/notes/frozen_runs      # 3 seeds, both paths
    python benchmarks/frozen_vs_finetuned.py --seeds 1 --paths finetuned --runs-dir DIR
    python benchmarks/frozen_vs_finetuned.py --quick --seeds 1 --results /tmp/r.md  # a smoke run
"""

import argparse
import os
import pickle
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Memory
from sklearn.base import clone

from jtt_sklearn import JTTClassifier
from jtt_sklearn.baselines import GroupBalancedClassifier, GroupDROClassifier
from jtt_sklearn.datasets import load_mnist_on_backgrounds
from jtt_sklearn.feature_extraction import PretrainedEmbedder, efficientnet_lite0_backbone
from jtt_sklearn.metrics import worst_group_accuracy
from jtt_sklearn.model_selection import tune_on_validation
from jtt_sklearn.recipes import make_efficientnet_lite0_net, make_tabular_net
from jtt_sklearn.utils._seeding import seeded_torch

from _report import write_section  # benchmarks/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("frozen", "finetuned")
METHODS = ("ERM", "JTT", "Group-balanced (oracle)", "Group DRO (oracle)")
# quality.py's grid for the fine-tuned image task, for both paths.
JTT_GRID = [{"T": [1], "lambda_up": [1]}, {"T": [1, 2], "lambda_up": [5, 20]}]
DRO_GRID = {"eta": [0.01, 0.1]}
QUICK_JTT_GRID = [{"T": [1], "lambda_up": [1, 5]}]
# quality.py's settings for this task (its tune_on_validation version, 2026-12-02): 64 px images (at
# 32 px EfficientNet-Lite0's last feature map is one pixel); fine-tuned with Adam 3e-4, batch 32,
# 5 epochs; the frozen features' MLP head 30 epochs, batch 64.
IMAGE_SIZE = 64
FINETUNED_EPOCHS, FINETUNED_BATCH = 5, 32
HEAD_EPOCHS, HEAD_BATCH = 30, 64


def _finetuned_net(epochs):
    return make_efficientnet_lite0_net(
        optimizer=torch.optim.Adam, lr=3e-4, weight_decay=0.0, batch_size=FINETUNED_BATCH, max_epochs=epochs
    )


def _scores(model, X, y, groups):
    """Test worst-group and average accuracy."""
    predictions = model.predict(X)
    return worst_group_accuracy(y, predictions, group_labels=groups), float(np.mean(predictions == y))


def _embed(splits, batch_size):
    """Each split's images through the frozen EfficientNet-Lite0: 1,280 features per image."""
    embedder = PretrainedEmbedder(efficientnet_lite0_backbone, batch_size=batch_size)
    train, *others = splits
    embedded = [(embedder.fit_transform(train[0]), train[1], train[2])]
    embedded += [(embedder.transform(X), y, g) for X, y, g in others]
    return embedded


def _methods(net, splits, seed, jtt_grid, dro_grid):
    """Every method on one path's data: {method: (test worst group, test average)} and JTT's choice."""
    (X_tr, y_tr, g_tr), (X_va, y_va, g_va), (X_te, y_te, g_te) = splits
    results = {}
    erm = clone(net)
    with seeded_torch(seed):
        erm.fit(X_tr, y_tr)
    results["ERM"] = _scores(erm, X_te, y_te, g_te)
    T_grid = sorted({T for grid in jtt_grid for T in grid["T"]})
    with tempfile.TemporaryDirectory() as cache:
        # memory + T_grid: one identification run serves every T and lambda_up, and the refit.
        jtt = JTTClassifier(net, memory=Memory(cache, verbose=0), T_grid=T_grid, random_state=seed)
        model, search = tune_on_validation(jtt, jtt_grid, X_tr, y_tr, X_va, y_va, g_va)
        results["JTT"] = _scores(model, X_te, y_te, g_te)
    balanced = GroupBalancedClassifier(net, random_state=seed).fit(X_tr, y_tr, group_labels=g_tr)
    results["Group-balanced (oracle)"] = _scores(balanced, X_te, y_te, g_te)
    dro, _ = tune_on_validation(
        GroupDROClassifier(net, random_state=seed),
        dro_grid,
        X_tr,
        y_tr,
        X_va,
        y_va,
        g_va,
        train_group_labels=g_tr,
    )
    results["Group DRO (oracle)"] = _scores(dro, X_te, y_te, g_te)
    return results, {"params": search.best_params_, "error_set_size": len(model.error_set_)}


def run_one(path, seed, quick=False, head_threads=None):
    """One path on one seed, timed from loading the data to the test scores.

    ``head_threads``: torch threads while the frozen path trains its heads (None: as set). A
    1,280 x 64 MLP step is too small to share between threads; on a loaded machine two threads
    wait on each other.
    """
    threads = torch.get_num_threads()
    head_threads = threads if head_threads is None or path != "frozen" else head_threads
    load = os.getloadavg()[0]
    start = time.perf_counter()
    splits = list(load_mnist_on_backgrounds(image_size=32 if quick else IMAGE_SIZE, random_state=seed))
    jtt_grid = QUICK_JTT_GRID if quick else JTT_GRID
    dro_grid = {"eta": [0.1]} if quick else DRO_GRID
    embedding = 0.0
    if path == "frozen":
        splits = _embed(splits, batch_size=256)
        embedding = time.perf_counter() - start
        epochs = 2 if quick else HEAD_EPOCHS
        net = make_tabular_net(splits[0][0].shape[1], max_epochs=epochs, batch_size=HEAD_BATCH)
    else:
        net = _finetuned_net(1 if quick else FINETUNED_EPOCHS)
    torch.set_num_threads(head_threads)
    try:
        results, details = _methods(net, splits, seed, jtt_grid, dro_grid)
    finally:
        torch.set_num_threads(threads)
    wall = time.perf_counter() - start
    run = {"path": path, "seed": seed, "wall": wall, "embedding": embedding, "load": load, **details}
    run.update(results=results, threads=threads, head_threads=head_threads, quick=quick)
    print(
        f"  {_label(run)} seed {seed}: {wall:.0f} s (embedding {embedding:.1f} s, load {load:.2f}); "
        + ", ".join(f"{m} {w:.3f}/{a:.3f}" for m, (w, a) in results.items())
        + f"; JTT {details['params']}, |E|={details['error_set_size']}",
        flush=True,
    )
    return run


def _label(run):
    """The path, and the head's threads where they differ from the embedding's."""
    if run["path"] == "frozen" and run["head_threads"] != run["threads"]:
        return f"frozen, head at {run['head_threads']} thread{'s' * (run['head_threads'] > 1)}"
    return run["path"]


def _run_file(args, path, seed):
    head = args.threads if args.head_threads is None or path != "frozen" else args.head_threads
    variant = f"t{args.threads}" + (f"-head{head}" if head != args.threads else "")
    return args.runs_dir / f"{path}-{variant}{'-quick' if args.quick else ''}-{seed}.pkl"


def _run(path, seed, args):
    """One run, or the one an earlier call left in --runs-dir."""
    file = None if args.runs_dir is None else _run_file(args, path, seed)
    if file is not None and file.exists():
        print(f"  reusing {file}", flush=True)
        return pickle.loads(file.read_bytes())
    run = run_one(path, seed, quick=args.quick, head_threads=args.head_threads)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(pickle.dumps(run))
    return run


def _mean_std(values, digits=1):
    values = np.asarray(values, dtype=float)
    if values.size == 1:  # the seeds column says so
        return f"{values[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def summarise(runs):
    """Per-seed rows, each setting's mean, and each frozen setting's share of the fine-tuned wall time."""

    def cell(run, method):
        return "{:.1f} / {:.1f}".format(*(100 * np.asarray(run["results"][method])))

    header = " | ".join(f"{m} worst / avg" for m in METHODS)
    lines = [
        "| path | seed | torch threads | load at start | wall time (s) | of which loading + embedding (s) | "
        f"{header} | JTT chosen |",
        "|---|---|---|---|---|---|" + "---|" * (len(METHODS) + 1),
    ]
    labels = sorted({_label(r) for r in runs}, key=lambda label: (label != "finetuned", label))
    for run in sorted(runs, key=lambda r: (r["seed"], labels.index(_label(r)))):
        params = ", ".join(f"{k}={v}" for k, v in sorted(run["params"].items()))
        threads = f"{run['threads']}"
        if run["head_threads"] != run["threads"]:
            threads += f", head {run['head_threads']}"
        embedding = f"{run['embedding']:.1f}" if run["path"] == "frozen" else "–"
        lines.append(
            f"| {_label(run)} | {run['seed']} | {threads} | {run['load']:.2f} | {run['wall']:.0f} | "
            f"{embedding} | " + " | ".join(cell(run, m) for m in METHODS) + f" | {params} |"
        )
    by_label = {label: [r for r in runs if _label(r) == label] for label in labels}
    lines += ["", f"| path | seeds | wall time (s) | {header} |", "|---|---|---|" + "---|" * len(METHODS)]
    for label, label_runs in by_label.items():
        cells = [
            f"{_mean_std([100 * r['results'][m][0] for r in label_runs])} / "
            f"{_mean_std([100 * r['results'][m][1] for r in label_runs])}"
            for m in METHODS
        ]
        walls = _mean_std([r["wall"] for r in label_runs], digits=0)
        lines.append(f"| {label} | {len(label_runs)} | {walls} | " + " | ".join(cells) + " |")
    ratios = []
    finetuned = {r["seed"]: r["wall"] for r in by_label.get("finetuned", [])}
    for label, label_runs in by_label.items():
        if label == "finetuned" or not finetuned:
            continue
        frozen = {r["seed"]: r["wall"] for r in label_runs}
        ratio = np.mean(list(frozen.values())) / np.mean(list(finetuned.values()))
        text = (
            f"{label} / fine-tuned wall time: **{ratio:.3f}** (mean over {len(frozen)} and "
            f"{len(finetuned)} seeds; target at most 0.1)"
        )
        shared = sorted(set(frozen) & set(finetuned))
        if shared:
            text += "; seed by seed: " + ", ".join(f"seed {s} {frozen[s] / finetuned[s]:.3f}" for s in shared)
        ratios.append(f"- {text}.")
    return "\n".join(lines), "\n".join(ratios) or None


def write_results(table, ratio, command, path, quick=False):
    ratio_text = "One path only: no ratio." if ratio is None else ratio
    section = "\n".join(
        [
            "## Frozen features against fine-tuning",
            "",
            f"Command: `{command}` ({platform.machine()}, {os.cpu_count()} CPU cores, "
            f"{torch.get_num_threads()} torch threads, Python {platform.python_version()}, torch "
            f"{torch.__version__}, {time.strftime('%Y-%m-%d')}). *Load at start* is the 1-minute load "
            "average when the path started (other jobs shared the machine).",
            "",
            f"`mnist_on_backgrounds` at {32 if quick else IMAGE_SIZE} px, test accuracy in %. Both paths "
            "run ERM, JTT (T in {1, 2} x lambda_up in {1, 5, 20}, chosen by worst-group validation "
            "accuracy with `tune_on_validation`, refitted on the training rows), the group-balanced "
            "oracle and Group DRO (eta in {0.01, 0.1}). *finetuned*: EfficientNet-Lite0 trained end to "
            "end for every fit (Adam 3e-4, batch 32, 5 epochs). *frozen*: the same ImageNet weights embed "
            "the 1,000 images once ({class}`~jtt_sklearn.feature_extraction.PretrainedEmbedder` with "
            "{func}`~jtt_sklearn.feature_extraction.efficientnet_lite0_backbone`), and every fit "
            "trains an MLP head on the 1,280 features (30 epochs). Wall time: from loading the data to the "
            "test scores of all four methods, embedding included. *torch threads*: "
            "`torch.set_num_threads` for the path; *head 1*: the frozen path's heads trained at one "
            "thread (the embedding at the first number); with the same seeds, the two frozen settings "
            "gave identical accuracies here, and only their times differ.",
            "",
            table,
            "",
            ratio_text,
        ]
    )
    write_section(path, "frozen", section)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (both paths)")
    parser.add_argument(
        "--head-threads", type=int, help="torch threads for the frozen path's heads (default: --threads)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="32 px, 1-2 epochs, 2 JTT candidates: a smoke run"
    )
    parser.add_argument("--results", type=Path, default=ROOT / "docs" / "results.md")
    parser.add_argument("--runs-dir", type=Path, help="keep each run here and reuse those already there")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    runs = [_run(path, seed, args) for seed in range(args.seeds) for path in args.paths]
    if args.runs_dir is not None:  # the table shows every run there: other paths and settings too
        runs = [pickle.loads(f.read_bytes()) for f in sorted(args.runs_dir.glob("*.pkl"))]
        runs = [r for r in runs if r["quick"] == args.quick]
    table, ratio = summarise(runs)
    print(table)
    if ratio is not None:
        print(ratio)
    arguments = argv if argv is not None else sys.argv[1:]
    command = "python benchmarks/frozen_vs_finetuned.py " + " ".join(arguments)
    write_results(table, ratio, command.strip(), args.results, quick=args.quick)
    return runs


if __name__ == "__main__":
    main()
