"""Draw docs/img/digits_on_backgrounds.png and docs/img/mnist_on_backgrounds.png: training rows of each group.

python docs/_scripts/make_on_backgrounds_figures.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jtt_sklearn.datasets import load_digits_on_backgrounds, load_mnist_on_backgrounds  # noqa: E402

PER_GROUP = 6
IMG = Path(__file__).resolve().parents[1] / "img"


def draw(loader, path):
    data = loader(image_size=64, random_state=0)
    X, _, groups = data.train
    counts = data.group_counts()["train"]
    fig, axes = plt.subplots(data.n_groups, PER_GROUP, figsize=(1.3 * PER_GROUP + 2.6, 1.4 * data.n_groups))
    for g, row in enumerate(axes):
        for ax, index in zip(row, np.flatnonzero(groups == g)[:PER_GROUP]):
            ax.imshow(X[index].transpose(1, 2, 0))
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(
            f"{data.group_names[g]}\n{counts[g]} training rows",
            rotation=0,
            ha="right",
            va="center",
            fontsize=8,
        )
    fig.suptitle(f"{loader.__name__}: training rows of each group (image_size=64)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(img=IMG):
    return [
        draw(load_digits_on_backgrounds, img / "digits_on_backgrounds.png"),
        draw(load_mnist_on_backgrounds, img / "mnist_on_backgrounds.png"),
    ]


if __name__ == "__main__":
    print(*main(), sep="\n")
