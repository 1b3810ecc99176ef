"""What the speed workloads share: synthetic data, a linear skorch net, peak memory, child processes."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNetClassifier
from torch import nn

# The memory and scaling workloads measure one fit per fresh process: speed.py run with a --child-* flag.
SPEED_SCRIPT = Path(__file__).resolve().parents[1] / "speed.py"


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


def peak_rss_mb():
    """This process's peak resident set size in MB, from /proc (VmHWM).

    Not getrusage's ru_maxrss: Linux carries that over exec from the forking parent, so a child of a
    large benchmark process would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line: run the memory figures on Linux")


def run_child(*args):
    """Run ``speed.py <args>`` in a fresh process and return the JSON its last output line holds."""
    command = [sys.executable, str(SPEED_SCRIPT), *map(str, args)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def alternate(functions, repeats):
    """Call each function in turn, ``repeats`` rounds, so that drifts in machine load hit all alike.

    Returns ``(seconds, last)``: each function's list of wall times and its last return value.
    """
    seconds, last = {name: [] for name in functions}, {}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            last[name] = function()
            seconds[name].append(time.perf_counter() - start)
    return seconds, last
