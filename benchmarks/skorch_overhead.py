"""Where JTTClassifier's time goes against the raw PyTorch loop on the demo-sized workload.

Times the raw loop and JTTClassifier.fit, then JTTClassifier.fit with two of skorch's per-batch
costs switched off by patching skorch for the measurement only: the callbacks' per-batch hooks
(on_batch_begin, on_batch_end, on_grad_computed; the net's own hooks still run) and setting the
module's train mode before every batch. What is left is skorch's training step itself (closure,
infer, loss, history), which no dataset, iterator, collate function or callback can reach. Two
hand-written skorch versions of the same two stages show what skorch costs without the library: one
fetches batches as JTTClassifier does, one copies the error rows as a user would.

    python benchmarks/skorch_overhead.py
"""

import sys
import time
from pathlib import Path

import numpy as np
import skorch
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _speed import overhead, raw, scaling  # noqa: E402
from jtt_sklearn import JTTClassifier  # noqa: E402
from jtt_sklearn.recipes import make_tabular_net  # noqa: E402

NN = skorch.NeuralNet
ORIGINAL = {"notify": NN.notify, "_set_training": NN._set_training}


def quiet_notify(self, name, **kw):
    """notify without the callbacks' per-batch hooks."""
    if name in ("on_batch_begin", "on_batch_end", "on_grad_computed"):
        return getattr(self, name)(self, **kw)  # the net's own hook (it records the batch), no callbacks
    return ORIGINAL["notify"](self, name, **kw)


def once_training(self, training=True):
    """Set the train mode only when it changes, not before every batch."""
    if getattr(self, "_mode", None) != training:
        self._mode = training
        ORIGINAL["_set_training"](self, training)


def main():
    torch.set_num_threads(1)
    _, _, hidden, bs, T, epochs, lam = raw.RAW_WORKLOADS["demo-sized"]
    X, y = raw.raw_workload_data("demo-sized")
    net = make_tabular_net(X.shape[1], hidden=hidden, batch_size=bs, max_epochs=epochs)
    variants = {
        "jtt": {},
        "no callbacks per batch": {"notify": quiet_notify},
        "no per-batch train()": {"_set_training": once_training},
        "both": {"notify": quiet_notify, "_set_training": once_training},
    }
    hand_written = {
        "hand-written skorch, batch fetching": lambda: overhead.hand_written_jtt(net, X, y, T, lam, seed=0),
        "hand-written skorch, copied rows": lambda: scaling.hand_written_two_stage(net, X, y, lam),
    }
    assert T == 1  # hand_written_two_stage trains stage 1 for one epoch
    times = {k: [] for k in ["raw", *variants, *hand_written]}
    raw.raw_pytorch_jtt(X[:256], y[:256], hidden=hidden, batch_size=bs, T=1, epochs=1, lambda_up=2)
    for _ in range(5):  # alternating, median of 5
        start = time.perf_counter()
        n_errors = raw.raw_pytorch_jtt(
            X, y, hidden=hidden, batch_size=bs, T=T, epochs=epochs, lambda_up=lam
        )
        times["raw"].append(time.perf_counter() - start)
        for name, patch in variants.items():
            for key, function in patch.items():
                setattr(NN, key, function)
            try:
                start = time.perf_counter()
                JTTClassifier(net, T=T, lambda_up=lam, random_state=0).fit(X, y)
                times[name].append(time.perf_counter() - start)
            finally:
                for key in patch:
                    setattr(NN, key, ORIGINAL[key])
        for name, fit in hand_written.items():
            torch.manual_seed(0)
            start = time.perf_counter()
            fit()
            times[name].append(time.perf_counter() - start)
    median = {key: float(np.median(value)) for key, value in times.items()}
    steps = -(-(len(y) + (lam - 1) * n_errors) // bs) * epochs + -(-len(y) // bs) * T
    for key, value in median.items():
        print(
            f"{key:36s} {value:.3f} s  ratio {value / median['raw']:.2f}  "
            f"per training step {1e6 * value / steps:.0f} us"
        )


if __name__ == "__main__":
    main()
