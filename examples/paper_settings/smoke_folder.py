"""
A Waterbirds-format folder to try the smoke run
===============================================

Writes ``metadata.csv`` and JPEG images in the layout of the official
``waterbird_complete95_forest2water2`` folder (columns ``img_id,
img_filename, y, split, place``; images in ``<id>.<species>/`` sub-folders),
with synthetic pictures: a light, round "waterbird" or a dark, long
"landbird" on a blue "water" or green "land" background. As in Waterbirds,
95% of the training birds stand on their usual background and the
validation and test backgrounds are independent of the label; the splits
keep Waterbirds' proportions (41% train, 10% validation, 49% test)::

    python examples/paper_settings/smoke_folder.py /tmp/waterbirds_like --n 600
    python examples/paper_settings/reproduce.py waterbirds --root /tmp/waterbirds_like --smoke

It checks the code path only: the pictures are not birds.
"""

import argparse
from pathlib import Path

import numpy as np

SPLIT_SHARES = (0.407, 0.102, 0.491)  # Waterbirds: 4,795 / 1,199 / 5,794 of 11,788 images
BACKGROUNDS = ((60, 120, 50), (40, 90, 170))  # place 0 = land (green), 1 = water (blue)


def _picture(label, place, size, rng):
    from PIL import Image, ImageDraw

    noise = rng.randint(-25, 26, size=(size, size, 3))
    pixels = np.clip(np.array(BACKGROUNDS[place]) + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    cx, cy = rng.randint(size // 3, 2 * size // 3, size=2)
    if label:  # waterbird: light and round
        r = size // 6
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(235, 235, 225))
    else:  # landbird: dark and long
        draw.ellipse((cx - size // 4, cy - size // 10, cx + size // 4, cy + size // 10), fill=(90, 60, 30))
    return image


def write_waterbirds_like(root, n=600, size=128, spurious_strength=0.95, seed=0):
    """Write ``n`` images and ``metadata.csv`` under ``root``; return the number of training images."""
    root = Path(root)
    rng = np.random.RandomState(seed)
    split = rng.choice(3, size=n, p=SPLIT_SHARES)
    y = rng.randint(0, 2, size=n)
    usual = rng.rand(n) < np.where(split == 0, spurious_strength, 0.5)
    place = np.where(usual, y, 1 - y)
    rows = ["img_id,img_filename,y,split,place"]
    for i in range(n):
        name = f"{1 + y[i]:03d}.{'Waterbird' if y[i] else 'Landbird'}/img_{i:05d}.jpg"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        _picture(y[i], place[i], size, rng).save(root / name, quality=90)
        rows.append(f"{i + 1},{name},{y[i]},{split[i]},{place[i]}")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    return int(np.sum(split == 0))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", help="folder to write (created)")
    parser.add_argument("--n", type=int, default=600, help="number of images")
    parser.add_argument("--size", type=int, default=128, help="side of the square images, in pixels")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n_train = write_waterbirds_like(args.root, n=args.n, size=args.size, seed=args.seed)
    print(f"wrote {args.n} images ({n_train} training) and metadata.csv to {args.root}")


if __name__ == "__main__":
    main()
