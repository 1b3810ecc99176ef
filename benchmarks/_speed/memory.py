"""Memory: peak RSS of JTTClassifier.fit with lambda_up=100 over lambda_up=1, each fit in a fresh process."""

import json

from jtt_sklearn import JTTClassifier

from .common import make_data, make_net, peak_rss_mb, run_child


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
        peaks = {
            lambda_up: run_child("--child-memory", kind, lambda_up, n_rows, n_features)
            for lambda_up in (1, 100)
        }
        rows[kind] = {
            "data_mb": peaks[1]["data_mb"],
            "peak_mb_lambda_1": peaks[1]["peak"],
            "peak_mb_lambda_100": peaks[100]["peak"],
            "ratio": peaks[100]["peak"] / peaks[1]["peak"],
            "error_set": peaks[100]["errors"],
        }
        print(f"memory {kind}: {rows[kind]}", flush=True)
    return rows


def memory_section(memory):
    rows = "\n".join(
        f"| {kind} | {row['data_mb']:.0f} | {row['error_set']} | {row['peak_mb_lambda_1']:.0f} | "
        f"{row['peak_mb_lambda_100']:.0f} | {row['ratio']:.3f} |"
        for kind, row in memory.items()
    )
    return f"""**Memory** (peak RSS of the whole process, MB; target: ratio at most 1.1):

| base | data MB | error set | peak, lambda_up=1 | peak, lambda_up=100 | ratio |
|---|---|---|---|---|---|
{rows}"""
