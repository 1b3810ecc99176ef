"""A search on image Datasets: peak memory against the image count, and a repeated search against the first.

Writes Waterbirds-format folders (``metadata.csv`` and PNG files, a planted background attribute)
of two sizes, then runs ``tune_on_validation`` over ``load_waterbirds`` Datasets in fresh Python
processes: once on an empty ``memory`` folder, and again on the same folder (a new session, as a
user who comes back the next day). Each process reports its wall time and its peak resident memory
(``VmHWM``). Stacking the images into arrays would grow the peak by about the image bytes (printed).

    python benchmarks/dataset_search.py            # prints the table
    python benchmarks/dataset_search.py --write    # and writes it into docs/results.md
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZES = (240, 960)  # images per folder: half train, a quarter validation, a quarter test
PIXELS = 96

SEARCH = """
import json, sys, time, torch
torch.set_num_threads(1)
from skorch import NeuralNetClassifier
from jtt_sklearn import JTTClassifier
from jtt_sklearn.datasets import load_waterbirds
from jtt_sklearn.metrics import worst_group_accuracy
from jtt_sklearn.model_selection import tune_on_validation
sys.path.insert(0, {bench!r})
from dataset_search import PooledNet

start = time.perf_counter()
(train, _, _), (val, _, g_val), (test, y_test, g_test) = load_waterbirds({root!r})
net = NeuralNetClassifier(PooledNet, criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=1e-2,
                          max_epochs=4, batch_size=32, train_split=None, verbose=0)
jtt = JTTClassifier(net, T_grid=[1, 2], memory={cache!r}, random_state=0)
model, search = tune_on_validation(jtt, {{"T": [1, 2], "lambda_up": [1, 5, 20]}}, train, None, val, None, g_val)
wall = time.perf_counter() - start
worst = worst_group_accuracy(y_test, model.predict(test), group_labels=g_test)
peak = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")][0] / 1024
print(json.dumps({{"wall": wall, "peak_mb": peak, "worst": worst, "best": search.best_params_}}))
"""


class PooledNet:  # replaced below when torch is importable; keeps this module importable without it
    pass


try:
    import torch

    class PooledNet(torch.nn.Module):  # type: ignore[no-redef]
        """Average-pools the image to 8 x 8, then one linear layer: cheap, and it sees colour."""

        def __init__(self):
            super().__init__()
            self.pool = torch.nn.AdaptiveAvgPool2d(8)
            self.linear = torch.nn.Linear(3 * 8 * 8, 2)

        def forward(self, X):
            return self.linear(self.pool(X).flatten(1))

except ImportError:  # pragma: no cover
    pass


def write_folder(root, n_images, seed=0):
    """A Waterbirds-format folder: label in the red channel (noisy), background in green (95% aligned)."""
    from PIL import Image

    rng = np.random.RandomState(seed)
    rows = ["img_id,img_filename,y,split,place"]
    for i in range(n_images):
        split = 0 if i < n_images // 2 else (1 if i < 3 * n_images // 4 else 2)
        y = int(rng.rand() < 0.5)
        place = y if (split == 0 and rng.rand() < 0.95) else int(rng.rand() < 0.5)
        image = rng.randint(0, 60, size=(PIXELS, PIXELS, 3)).astype(np.uint8)
        image[..., 0] += np.uint8(60 * y + rng.randint(0, 90))
        image[..., 1] += np.uint8(150 * place)
        name = f"{y:03d}.Bird/img_{i}.png"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / name)
        rows.append(f"{i + 1},{name},{y},{split},{place}")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")


def run_search(root, cache):
    code = SEARCH.format(bench=str(Path(__file__).parent), root=str(root), cache=str(cache))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the table into docs/results.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            root, cache = Path(tmp) / f"waterbirds_{n}", Path(tmp) / f"cache_{n}"
            write_folder(root, n)
            first, second = run_search(root, cache), run_search(root, cache)
            image_mb = n * 3 * PIXELS * PIXELS * 4 / 2**20
            rows.append((n, first, second, image_mb))
            print(
                f"{n} images: first search {first['wall']:.1f} s, peak {first['peak_mb']:.0f} MB, test worst "
                f"group {first['worst']:.3f} {first['best']}; repeated search (new process, same memory) "
                f"{second['wall']:.1f} s = {second['wall'] / first['wall']:.2f} of the first, peak "
                f"{second['peak_mb']:.0f} MB; the images as float32 arrays: {image_mb:.0f} MB",
                flush=True,
            )
    table = [
        "| images | first search, s | peak MB | repeated search, s | repeated / first | peak MB | images as float32, MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, first, second, image_mb in rows:
        table.append(
            f"| {n} | {first['wall']:.1f} | {first['peak_mb']:.0f} | {second['wall']:.1f} | "
            f"{second['wall'] / first['wall']:.2f} | {second['peak_mb']:.0f} | {image_mb:.0f} |"
        )
    growth = rows[-1][1]["peak_mb"] - rows[0][1]["peak_mb"]
    stacked = rows[-1][3] - rows[0][3]
    text = "\n".join(
        [
            "## Searching image Datasets",
            "",
            f"Command: `python benchmarks/dataset_search.py --write` ({platform.machine()}, "
            f"{os.cpu_count()} cores, load {load:.2f} at the start, 1 torch thread, "
            f"{datetime.date.today().isoformat()}).",
            "",
            "{func}`~jtt_sklearn.model_selection.tune_on_validation` over "
            f"{{func}}`~jtt_sklearn.datasets.load_waterbirds` Datasets (Waterbirds-format folders of {PIXELS} x "
            f"{PIXELS} PNG files, written by the script), JTT with `T_grid=[1, 2]` x lambda_up in {{1, 5, 20}}, "
            "`memory=` a fresh folder, each search in a new Python process; the repeated search runs in "
            "another new process on the same folder.",
            "",
            *table,
            "",
            f"From {SIZES[0]} to {SIZES[-1]} images the first search's peak grew by {growth:.0f} MB, against "
            f"{stacked:.0f} MB more that stacking the images as float32 arrays would take: the images are "
            "opened batch by batch. The repeated search (and its refit) trained nothing.",
        ]
    )
    print(text)
    if args.write:
        from _report import write_section

        write_section(ROOT / "docs" / "results.md", "datasets", text)


if __name__ == "__main__":
    main()
