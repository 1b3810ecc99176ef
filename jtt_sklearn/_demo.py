"""The README's demo: ERM against JTT on coloured digits, with a per-group table.

JTT's T and lambda_up are chosen by worst-group accuracy on the
group-labelled validation split; training never sees a group label.
"""

import time

import numpy as np
import torch
from skorch import NeuralNetClassifier
from torch import nn

from ._jtt import JTTClassifier
from ._stages import seeded_torch
from .datasets import load_colored_digits
from .metrics import group_accuracies, worst_group_accuracy

DEMO_GRID = {"T": [1, 5], "lambda_up": [5, 20, 50]}


class DemoMLP(nn.Module):
    """Two-layer perceptron returning logits."""

    def __init__(self, n_features=128, n_classes=2, hidden=64):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, X):
        return self.layers(X)


def make_demo_net(n_features, max_epochs=30, random_state=0):
    """The skorch net shared by every method of the demo."""
    return NeuralNetClassifier(
        DemoMLP,
        module__n_features=n_features,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=64,
        max_epochs=max_epochs,
        iterator_train__shuffle=True,
        train_split=None,  # JTT needs every training row; validation is the group-labelled split
        verbose=0,
    )


def run_demo(*, max_epochs=30, random_state=0, out=print):
    """Train ERM and JTT (tuned on validation) on coloured digits; print per-group accuracy.

    Parameters
    ----------
    max_epochs : int, default=30
        Training length of ERM and of JTT's final model.
    random_state : int, default=0
        Seeds the data and every model.
    out : callable, default=print
        Where progress and the table are written.

    Returns
    -------
    results : dict
        ``{method: {group: test accuracy}}`` plus ``"best_params"`` for JTT.
    """
    data = load_colored_digits(random_state=random_state)
    (X_train, y_train, _), (X_val, y_val, g_val), (X_test, y_test, g_test) = data
    n_features = X_train.shape[1]
    out(f"Data: {data.name}, {len(y_train)} training rows (no group labels), "
        f"{len(y_val)} validation and {len(y_test)} test rows with groups.")
    out("Training groups, unseen by every model: " + ", ".join(
        f"{name}: {count}" for name, count in zip(data.group_names, data.group_counts()["train"])))

    start = time.perf_counter()
    erm = make_demo_net(n_features, max_epochs)
    with seeded_torch(random_state):
        erm.fit(X_train, y_train)
    out(f"[ERM] trained in {time.perf_counter() - start:.1f}s")

    best, best_score = None, -1.0
    candidates = [(T, lam) for T in DEMO_GRID["T"] for lam in DEMO_GRID["lambda_up"]]
    for i, (T, lam) in enumerate(candidates, 1):
        start = time.perf_counter()
        jtt = JTTClassifier(make_demo_net(n_features, max_epochs), T=T, lambda_up=lam, random_state=random_state)
        jtt.fit(X_train, y_train)
        score = worst_group_accuracy(y_val, jtt.predict(X_val), group_labels=g_val)
        out(f"[JTT {i}/{len(candidates)}] T={T} lambda_up={lam}: error set {jtt.error_set_.size} rows, "
            f"validation worst-group {score:.3f} ({time.perf_counter() - start:.1f}s)")
        if score > best_score:
            best, best_score = jtt, score
    out(f"Chosen by validation worst-group accuracy: T={best.T}, lambda_up={best.lambda_up}")

    results = {
        "ERM": _test_accuracies(erm, X_test, y_test, g_test),
        "JTT": _test_accuracies(best, X_test, y_test, g_test),
        "best_params": {"T": best.T, "lambda_up": best.lambda_up},
    }
    out("")
    out(format_group_table(results, data.group_names, np.bincount(g_test)))
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
