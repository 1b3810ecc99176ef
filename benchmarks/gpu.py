"""GPU benchmark: JTT on Waterbirds-scale images with ResNet-50, against a raw PyTorch loop.

Workload (defaults): 4,795 random 3x224x224 images in 2 classes, torchvision
ResNet-50 (random init), batch 64, T=1 identification epoch, 2 final epochs,
lambda_up=20. Reports images per second of each stage (training, and the
error-set prediction pass) for

- ``raw``: a hand-written PyTorch two-stage loop on the same data;
- ``jtt``: JTTClassifier with a skorch net, data on the device served a batch
  per gather (``BatchedTensorDataset``), bf16 autocast and channels_last
  (``AutocastModule``): the documented fast options.

    python benchmarks/gpu.py                        # on a CUDA machine, ~3 min on an H200
    python benchmarks/gpu.py --device cpu --n 64 --size 32 --model resnet18   # logic check

Run only where a GPU is available; the CPU test suite runs the tiny logic check.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from jtt_sklearn import JTTClassifier
from jtt_sklearn.utils import AutocastModule, BatchedTensorDataset, collate_batched

from _report import write_section  # benchmarks/ is on sys.path when a script runs


def build_model(name, precision, channels_last):
    import torchvision

    model = getattr(torchvision.models, name)(weights=None, num_classes=2)
    if precision == "bf16":
        return AutocastModule(model, dtype=torch.bfloat16, channels_last=channels_last)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def warm_up(X, y, args):
    """A few steps of a throwaway model at the batch shapes used later.

    With ``cudnn.benchmark`` the first batch of each shape picks its
    kernels; doing that here keeps the autotuning out of whichever loop
    happens to run first.
    """
    model = build_model(args.model, args.precision, args.channels_last).to(args.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-5)
    for _ in range(3):  # training batches are all full (drop_last)
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(X[: args.batch]), y[: args.batch]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        for size in (args.batch * 4, len(y) % (args.batch * 4)):
            if size:
                model(X[:size])
    _sync(args.device)


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def raw_two_stage(X, y, args):
    """JTT written directly in PyTorch: the reference speed."""
    device = args.device
    model = build_model(args.model, args.precision, args.channels_last).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9, weight_decay=1.0)
    loss_fn = nn.CrossEntropyLoss()

    def train(indices, epochs):
        model.train()
        seen = 0
        _sync(device)
        start = time.perf_counter()
        for _ in range(epochs):
            order = indices[torch.randperm(len(indices), device=device)]
            for batch in order.split(args.batch):
                if len(batch) < args.batch:
                    break  # drop_last, as the skorch net does: BatchNorm cannot train on one row
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(X[batch]), y[batch]).backward()
                optimizer.step()
                seen += len(batch)
        _sync(device)
        return seen / (time.perf_counter() - start)

    all_rows = torch.arange(len(y), device=device)
    stage1 = train(all_rows, args.T)
    model.eval()
    _sync(device)
    start = time.perf_counter()
    with torch.no_grad():
        predictions = torch.cat([model(X[b]).argmax(1) for b in all_rows.split(args.batch * 4)])
    _sync(device)
    predict = len(y) / (time.perf_counter() - start)
    errors = torch.nonzero(predictions != y).flatten()
    upsampled = torch.cat([all_rows, errors.repeat_interleave(args.lambda_up - 1)])
    model = build_model(args.model, args.precision, args.channels_last).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9, weight_decay=1.0)
    stage2 = train(upsampled, args.final_epochs)
    return {"stage1_img_s": stage1, "predict_img_s": predict, "stage2_img_s": stage2, "errors": len(errors)}


class _EpochTimer(Callback):
    """skorch callback that records images per second of each training epoch."""

    def __init__(self):
        self.rates = []

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        _sync(str(net.device))
        self._start = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        _sync(str(net.device))
        self.rates.append(
            sum(net.history[-1, "batches", :, "train_batch_size"]) / (time.perf_counter() - self._start)
        )


def jtt_two_stage(X, y, args, default=False):
    """JTTClassifier on the GPU tensors: opt-in fast options, or (``default``) none at all.

    The default path is a plain net fitted on the device tensor X: JTT's
    default dataset indexes it on the device, one gather per batch, with no
    collate function or dataset to set.
    """
    timer1, timer2 = _EpochTimer(), _EpochTimer()
    if default:
        data, model = (X, y.cpu().numpy()), build_model(args.model, "fp32", False)
        options = {}
    else:
        data, model = (
            (BatchedTensorDataset(X, y),),
            build_model(args.model, args.precision, args.channels_last),
        )
        options = {
            "iterator_train__collate_fn": collate_batched,
            "iterator_valid__collate_fn": collate_batched,
        }
    net = NeuralNetClassifier(
        model,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.9,
        optimizer__weight_decay=1.0,
        lr=1e-5,
        batch_size=args.batch,
        iterator_valid__batch_size=args.batch * 4,
        iterator_train__drop_last=True,
        max_epochs=args.final_epochs,
        train_split=None,
        device=args.device,
        verbose=0,
        **options,
    )
    clf = JTTClassifier(
        net,
        T=args.T,
        lambda_up=args.lambda_up,
        identifier_params={"callbacks": [timer1]},
        final_params={"callbacks": [timer2]},
        random_state=0,
    )
    start = time.perf_counter()
    clf.fit(*data)
    total = time.perf_counter() - start
    # The prediction pass of stage 1, timed on its own with the fitted identifier.
    _sync(args.device)
    start = time.perf_counter()
    clf.identifier_.predict(data[0])
    _sync(args.device)
    predict = len(y) / (time.perf_counter() - start)
    return {
        "stage1_img_s": float(np.mean(timer1.rates)),
        "predict_img_s": predict,
        "stage2_img_s": float(np.mean(timer2.rates)),
        "errors": int(clf.error_set_.size),
        "fit_s": total,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n", type=int, default=4795)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--T", type=int, default=1)
    parser.add_argument("--final-epochs", type=int, default=2)
    parser.add_argument("--lambda-up", type=int, default=20)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--results", help="write the figures into this markdown file (docs/results.md)")
    parser.add_argument("--json", help="also save the figures as JSON here")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("No CUDA device: run with --device cpu for a logic check, or on a GPU machine.")
    torch.backends.cudnn.benchmark = True
    generator = torch.Generator().manual_seed(0)
    X = torch.rand(args.n, 3, args.size, args.size, generator=generator).to(args.device)
    y = torch.randint(0, 2, (args.n,), generator=generator).to(args.device)
    results = {
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
        "date": time.strftime("%Y-%m-%d"),
        "args": vars(args),
    }
    warm_up(X, y, args)
    results["raw"] = raw_two_stage(X, y, args)
    results["jtt"] = jtt_two_stage(X, y, args)
    results["jtt_default"] = jtt_two_stage(X, y, args, default=True)
    results["jtt_over_raw_stage1"] = results["jtt"]["stage1_img_s"] / results["raw"]["stage1_img_s"]
    results["jtt_over_raw_stage2"] = results["jtt"]["stage2_img_s"] / results["raw"]["stage2_img_s"]
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if args.results:
        write_results(results, Path(args.results))
    return results


def write_results(results, path):
    """Write the figures between the gpu markers of ``path`` (docs/results.md)."""
    args, raw, jtt, plain = results["args"], results["raw"], results["jtt"], results["jtt_default"]
    rows = "\n".join(
        f"| {label} | {raw[key]:,.0f} | {jtt[key]:,.0f} | {jtt[key] / raw[key]:.2f} | {plain[key]:,.0f} |"
        for label, key in (
            ("stage 1 training", "stage1_img_s"),
            ("error-set prediction pass", "predict_img_s"),
            ("stage 2 training", "stage2_img_s"),
        )
    )
    section = f"""## GPU

Command: `python benchmarks/gpu.py` on {results["device"]}, torch {torch.__version__}, {results["date"]}.
Workload: {args["n"]:,} random 3x{args["size"]}x{args["size"]} images in 2 classes on the GPU, torchvision
{args["model"]} (random init), batch {args["batch"]}, T={args["T"]}, {args["final_epochs"]} final epochs,
lambda_up={args["lambda_up"]}, {args["precision"]}{" with channels_last" if args["channels_last"] else ""}.
JTT runs through JTTClassifier with a skorch net on `BatchedTensorDataset` + `collate_batched`
(data on the GPU, one gather per batch) and `AutocastModule`; the raw loop is plain PyTorch on the
same tensors. The last column is JTTClassifier with no option at all: a plain fp32 net fitted on the
device tensor `X` (JTT's default dataset gathers each batch on the device). Targets: at least 2,000
img/s of training through JTTClassifier, and at least 0.9 of the raw loop.

| images per second | raw PyTorch | JTTClassifier, opt-in options | ratio | JTTClassifier, defaults (fp32) |
|---|---|---|---|---|
{rows}

Error set: {jtt["errors"]:,} rows (raw loop: {raw["errors"]:,}).
JTTClassifier.fit took {jtt["fit_s"]:.1f} s in all.
"""
    write_section(path, "gpu", section)


if __name__ == "__main__":
    main()
