"""The README's demo: ERM, JTT and Group DRO on coloured digits, with a per-group table.

JTT's T and lambda_up are chosen by worst-group accuracy on the
group-labelled validation split; training never sees a group label.
"""

import time

import numpy as np
from sklearn.base import clone

from ._jtt import JTTClassifier
from .utils._seeding import seeded_torch
from .baselines import GroupDROClassifier
from .datasets import load_colored_digits
from .metrics import group_accuracies
from .model_selection import tune_on_validation
from .recipes import make_tabular_net

JTT_GRID = {"T": [1, 5], "lambda_up": [5, 20, 50]}
GROUP_DRO_GRID = {"eta": [0.01, 0.1, 1.0]}


def run_demo(*, max_epochs=30, random_state=0, plot_path="jtt_demo.png", verbose=True, out=print):
    """ERM, JTT and Group DRO on coloured digits, tuned on validation; print per-group accuracy.

    JTT's ``T`` and ``lambda_up`` and Group DRO's ``eta`` are chosen by
    worst-group accuracy on the validation split with
    :func:`~jtt_sklearn.model_selection.tune_on_validation`, then refit on
    the training rows. JTT never sees a training group;
    Group DRO, an oracle, needs them all.

    Parameters
    ----------
    max_epochs : int, default=30
        Training length of every final model.
    random_state : int, default=0
        Seeds the data and every model.
    plot_path : str or None, default="jtt_demo.png"
        Where to write a bar chart of per-group test accuracy (needs
        matplotlib); None skips it.
    verbose : bool, default=True
        Show the search's progress (one line per candidate).
    out : callable, default=print
        Where the summary and the table are written.

    Returns
    -------
    results : dict
        ``{method: {group: test accuracy, "worst": ..., "average": ...}}`` and
        ``"best_params"``: ``{method: params}``.
    """
    data = load_colored_digits(random_state=random_state)
    (X_train, y_train, g_train), (X_val, y_val, g_val), (X_test, y_test, g_test) = data
    net = make_tabular_net(X_train.shape[1], max_epochs=max_epochs)
    out(f"Data: {data.name}, {len(y_train)} training rows (no group labels for JTT), "
        f"{len(y_val)} validation and {len(y_test)} test rows with groups.")
    out("Training groups: " + ", ".join(
        f"{name}: {count}" for name, count in zip(data.group_names, data.group_counts()["train"])))

    start = time.perf_counter()
    erm = clone(net)
    with seeded_torch(random_state):
        erm.fit(X_train, y_train)
    out(f"[ERM] trained in {time.perf_counter() - start:.1f}s")

    models, best_params = {"ERM": erm}, {"ERM": {}}
    searches = {
        "JTT": (JTTClassifier(net, random_state=random_state), JTT_GRID, None),
        "Group DRO": (GroupDROClassifier(net, random_state=random_state), GROUP_DRO_GRID, g_train),
    }
    for method, (estimator, grid, train_groups) in searches.items():
        start = time.perf_counter()
        out(f"[{method}] choosing {', '.join(grid)} by validation worst-group accuracy")
        models[method], search = tune_on_validation(
            estimator, grid, X_train, y_train, X_val, y_val, g_val,
            train_group_labels=train_groups, verbose=3 if verbose else 0,
        )
        best_params[method] = search.best_params_
        out(f"[{method}] chose {search.best_params_} (validation worst-group "
            f"{search.best_score_:.3f}) in {time.perf_counter() - start:.1f}s")

    results = {method: _test_accuracies(model, X_test, y_test, g_test) for method, model in models.items()}
    results["best_params"] = best_params
    out("")
    out(format_group_table(results, data.group_names, np.bincount(g_test)))
    if plot_path is not None:
        out(plot_group_accuracies(results, data.group_names, plot_path))
    return results


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
        lines.append(f"{name:<{width}}{group_sizes[g]:>6}" + "".join(f"{results[m][g]:>10.3f}" for m in methods))
    lines.append(f"{'worst group':<{width}}{'':>6}" + "".join(f"{results[m]['worst']:>10.3f}" for m in methods))
    lines.append(f"{'average':<{width}}{sum(group_sizes):>6}" + "".join(f"{results[m]['average']:>10.3f}" for m in methods))
    return "\n".join(lines)


def plot_group_accuracies(results, group_names, path):
    """Write a grouped bar chart of per-group test accuracy; return a line saying where."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 'No plot: matplotlib is not installed (pip install "jtt-sklearn[plot]").'
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
    ax.set_title("Per-group test accuracy (coloured digits)")
    ax.legend(loc="upper center", ncol=len(methods), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return f"Bar chart of per-group accuracy written to {path}"
