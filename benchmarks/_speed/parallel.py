"""Parallel search: GridSearchCV over JTTClassifier with n_jobs=2 against n_jobs=1."""

import time

from sklearn.model_selection import GridSearchCV, StratifiedKFold

from jtt_sklearn import JTTClassifier

from .common import make_data


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


def n_jobs_section(n_jobs):
    if not n_jobs:
        return ""
    return (
        f"**Parallel search**: GridSearchCV over JTTClassifier (20,000 x 64, hidden 256, 20 final epochs, "
        f"6 candidates x 2 folds) took "
        f"{n_jobs['n_jobs_1']:.1f} s with `n_jobs=1` and {n_jobs['n_jobs_2']:.1f} s with `n_jobs=2`: "
        f"**{n_jobs['speedup']:.2f}x** faster."
    )
