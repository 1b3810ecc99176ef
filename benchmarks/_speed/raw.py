"""Against raw PyTorch: JTTClassifier.fit over JTT's two trainings written as a plain PyTorch loop."""

import numpy as np
import torch
from torch import nn

from jtt_sklearn import JTTClassifier

from .common import alternate, make_data


RAW_WORKLOADS = {
    # name: (rows, features, hidden, batch, T, final epochs, lambda_up); demo-sized is coloured digits.
    "demo-sized": (1078, 128, 64, 64, 1, 30, 50),
    "compute-bound": (4000, 512, 1024, 256, 1, 5, 20),
}


def raw_pytorch_jtt(X, y, *, hidden, batch_size, T, epochs, lambda_up, seed=0):
    """JTT's two trainings as the official code and SpuCo write them: tensors indexed by batch."""
    from jtt_sklearn.recipes._tabular import TabularMLP

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    X, y = torch.from_numpy(X), torch.from_numpy(y)

    def train(rows, n_epochs):
        module = TabularMLP(X.shape[1], 2, hidden)
        optimizer, loss_fn = torch.optim.Adam(module.parameters(), lr=1e-3), nn.CrossEntropyLoss()
        module.train()
        for _ in range(n_epochs):
            order = rows[torch.randperm(len(rows), generator=generator)]
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                loss_fn(module(X[batch]), y[batch]).backward()
                optimizer.step()
        return module

    identifier = train(torch.arange(len(y)), T).eval()
    with torch.no_grad():
        predicted = torch.cat(
            [identifier(X[i : i + batch_size]).argmax(1) for i in range(0, len(y), batch_size)]
        )
    errors = torch.nonzero(predicted != y).flatten()
    train(torch.cat([torch.arange(len(y)), errors.repeat_interleave(lambda_up - 1)]), epochs)
    return int(errors.numel())


def raw_workload_data(name):
    rows, features = RAW_WORKLOADS[name][:2]
    if name == "demo-sized":
        from jtt_sklearn.datasets import load_colored_digits

        X, y, _ = load_colored_digits(random_state=0).train
        assert X.shape == (rows, features), X.shape
        return X, y.astype(np.int64)
    return make_data(rows, features, seed=3)


def measure_raw_ratio(name, repeats, epochs=None):
    """JTTClassifier.fit over the raw loop: same module, Adam, batch size, epochs and counted rows."""
    from jtt_sklearn.recipes import make_tabular_net

    _, _, hidden, batch_size, T, full_epochs, lambda_up = RAW_WORKLOADS[name]
    epochs = full_epochs if epochs is None else epochs  # fewer only for --quick
    X, y = raw_workload_data(name)
    net = make_tabular_net(X.shape[1], hidden=hidden, batch_size=batch_size, max_epochs=epochs)
    # Warm up both (torch's first calls allocate and dispatch more) before anything is timed.
    raw_pytorch_jtt(X[:256], y[:256], hidden=hidden, batch_size=batch_size, T=1, epochs=1, lambda_up=2)
    JTTClassifier(net, T=1, lambda_up=2, random_state=0).fit(X[:256], y[:256])
    times, last = alternate(
        {
            "raw": lambda: raw_pytorch_jtt(
                X, y, hidden=hidden, batch_size=batch_size, T=T, epochs=epochs, lambda_up=lambda_up
            ),
            "jtt": lambda: int(
                JTTClassifier(net, T=T, lambda_up=lambda_up, random_state=0).fit(X, y).error_set_.size
            ),
        },
        repeats,
    )
    result = {key: float(np.median(value)) for key, value in times.items()}
    result.update(ratio=result["jtt"] / result["raw"], errors=last)
    print(f"raw {name}: {result}", flush=True)
    return result


def raw_table(raw):
    lines = ["| workload | JTTClassifier, s | raw PyTorch, s | ratio | target |", "|---|---|---|---|---|"]
    targets = {"demo-sized": 1.15, "compute-bound": 1.05}
    for name, row in raw.items():
        rows, features, hidden, batch, T, epochs, lambda_up = RAW_WORKLOADS[name]
        label = (
            f"{name}: {rows:,} x {features}, hidden {hidden:,}, batch {batch}, T={T}, "
            f"{epochs} final epochs, lambda_up={lambda_up}"
        )
        lines.append(
            f"| {label} | {row['jtt']:.2f} | {row['raw']:.2f} | **{row['ratio']:.2f}** | {targets[name]} |"
        )
    return "\n".join(lines)


def raw_section(raw, repeats):
    return f"""**Against raw PyTorch** (median of {repeats} alternating runs in one process,
{torch.get_num_threads()} torch thread(s); the raw loop is written in the benchmark: the same module, Adam,
batch size, epochs and
counted rows, tensors indexed by batch, as the official JTT code and SpuCo train):

{raw_table(raw) if raw else "(not run)"}

JTTClassifier's skorch nets fetch each batch with one index operation (`SkorchDatasetWithBatchFetch`, set
by default when the net keeps skorch's default dataset) and slice the upsampled batches from one
index array per epoch; the batches are the same rows in the same order as skorch's per-row path
(tested), so results do not change."""
