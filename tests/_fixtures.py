"""Tiny on-disk copies of the paper's datasets, in the layouts their loaders read."""

import numpy as np


def write_image(path, value):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((4, 5, 3), value, dtype=np.uint8)).save(path)


def write_waterbirds(root):
    rows = ["img_id,img_filename,y,split,place"]
    for i in range(12):
        name = f"{i % 3:03d}.Bird/img_{i}.png"
        write_image(root / name, 20 * i)
        rows.append(f"{i + 1},{name},{i % 2},{i % 3},{(i // 2) % 2}")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")


def write_celeba(root, nested=False):
    image_dir = root / "img_align_celeba"
    if nested:
        image_dir = image_dir / "img_align_celeba"
    attr = ["image_id,Bald,Blond_Hair,Male"]
    part = ["image_id,partition"]
    for i in range(9):
        name = f"{i + 1:06d}.jpg"
        write_image(image_dir / name, 10 * i)
        attr.append(f"{name},-1,{1 if i % 2 else -1},{1 if i % 4 < 2 else -1}")
        part.append(f"{name},{i % 3}")
    (root / "list_attr_celeba.csv").write_text("\n".join(attr) + "\n")
    (root / "list_eval_partition.csv").write_text("\n".join(part) + "\n")


def write_multinli(root, with_flag=False, named=False):
    import csv

    names = ("contradiction", "entailment", "neutral")
    with open(root / "multinli.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        header = ["sentence1", "sentence2", "gold_label", "split"]
        writer.writerow(header + (["sentence2_has_negation"] if with_flag else []))
        for i in range(18):
            hyp = "Nobody, said he." if i % 2 else "He said, \"yes\"."
            label = names[i % 3] if named else i % 3
            row = [f"Premise {i}, with comma", hyp, label, ("train", "val", "test")[i // 6]]
            writer.writerow(row + ([1 - i % 2] if with_flag else []))


def write_civil(root, toxicity_cell=None):
    import csv

    identities = [
        "male", "female", "LGBTQ", "christian", "muslim", "other_religions", "black", "white",
    ]  # fmt: skip
    with open(root / "all_data_with_identities.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", "comment_text", "toxicity", "split", "severe_toxicity"] + identities)
        for i in range(12):
            ident = [""] * 8 if i == 0 else ["0.0"] * 8
            if i % 2:
                ident[i % 8] = "0.6"
            tox = "0.7" if (i // 2) % 2 else "0.1"
            if i == 5 and toxicity_cell is not None:
                tox = toxicity_cell
            split = ("train", "val", "test")[i % 3]
            writer.writerow([i, f"comment {i}\nsecond line", tox, split, "0"] + ident)
