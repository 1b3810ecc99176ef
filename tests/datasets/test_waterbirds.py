"""load_waterbirds and load_celeba: image folders read lazily through ImageFolderDataset."""

import numpy as np
import pytest
import torch
from sklearn.experimental import enable_halving_search_cv  # noqa: F401

from jtt_sklearn.datasets import (
    ImageFolderDataset,
    load_celeba,
    load_waterbirds,
)

from .._fixtures import (
    check_layout,
    write_celeba,
    write_image,
    write_waterbirds,
)


def test_load_waterbirds(tmp_path):
    write_waterbirds(tmp_path)
    splits = load_waterbirds(tmp_path)
    check_layout(splits)
    train = splits.train
    assert isinstance(train.X, ImageFolderDataset) and len(train.X) == 4
    np.testing.assert_array_equal(train.X.targets, train.y)
    np.testing.assert_array_equal(train.X.y, train.y)
    image, label = train.X[np.int64(1)]
    assert image.shape == (3, 4, 5) and image.dtype == torch.float32
    assert label == train.y[1] and 0.0 <= image.min() <= image.max() <= 1.0
    assert splits.group_names[1] == "y=0 (landbird), water background"
    batch_X, batch_y = next(iter(torch.utils.data.DataLoader(train.X, batch_size=3)))
    assert batch_X.shape == (3, 3, 4, 5) and batch_y.tolist() == train.y[:3].tolist()


def test_load_waterbirds_transforms(tmp_path):
    write_waterbirds(tmp_path)
    splits = load_waterbirds(tmp_path, transform=lambda im: "eval", train_transform=lambda im: "train")
    assert splits.train.X[0][0] == "train" and splits.test.X[0][0] == "eval"


def test_load_waterbirds_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="metadata.csv"):
        load_waterbirds(tmp_path)
    with pytest.raises(FileNotFoundError, match="group_DRO"):
        load_waterbirds(tmp_path / "absent")
    write_waterbirds(tmp_path)
    missing = next(tmp_path.glob("*/img_3.png"))
    missing.unlink()
    with pytest.raises(FileNotFoundError, match="img_3.png"):
        load_waterbirds(tmp_path)
    splits = load_waterbirds(tmp_path, check_files=False)  # deferred to __getitem__
    assert len(splits.train.X) + len(splits.validation.X) + len(splits.test.X) == 12


def test_load_waterbirds_rejects_unknown_split(tmp_path):
    write_waterbirds(tmp_path)
    text = (tmp_path / "metadata.csv").read_text().replace(",2,", ",7,", 1)
    (tmp_path / "metadata.csv").write_text(text)
    with pytest.raises(ValueError, match="split"):
        load_waterbirds(tmp_path)


@pytest.mark.parametrize("nested", [False, True])
def test_load_celeba(tmp_path, nested):
    write_celeba(tmp_path, nested=nested)
    splits = load_celeba(tmp_path)
    check_layout(splits)
    assert [len(s.y) for s in splits] == [3, 3, 3]
    # image 000002.jpg: partition 1, Blond_Hair 1, Male 1 -> group 3
    assert splits.validation.y[0] == 1 and splits.validation.group_labels[0] == 3
    image, label = splits.validation.X[0]
    assert image.shape == (3, 4, 5) and label == 1
    assert splits.group_names[3] == "y=1 (Blond_Hair), Male"


def test_load_celeba_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="list_attr_celeba.csv"):
        load_celeba(tmp_path)
    write_celeba(tmp_path)
    with pytest.raises(ValueError, match="Smiling"):
        load_celeba(tmp_path, target="Smiling")
    with pytest.raises(ValueError, match="must differ"):
        load_celeba(tmp_path, target="Bald", attribute="Bald")
    lines = (tmp_path / "list_eval_partition.csv").read_text().splitlines()
    (tmp_path / "list_eval_partition.csv").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ValueError, match="different images"):
        load_celeba(tmp_path)


def test_waterbirds_images_of_different_sizes_ask_for_a_resizing_transform(tmp_path):
    from PIL import Image

    write_waterbirds(tmp_path)
    Image.fromarray(np.zeros((9, 7, 3), dtype=np.uint8)).save(tmp_path / "000.Bird/img_0.png")
    train = load_waterbirds(tmp_path).train.X
    loader = torch.utils.data.DataLoader(train, batch_size=len(train))
    with pytest.raises(ValueError, match="different sizes.*Resize"):
        next(iter(loader))


def test_waterbirds_refuses_image_names_outside_its_folder(tmp_path):
    write_waterbirds(tmp_path)
    write_image(tmp_path.parent / "outside.png", 0)
    meta = (tmp_path / "metadata.csv").read_text().replace("000.Bird/img_0.png", "../outside.png")
    (tmp_path / "metadata.csv").write_text(meta)
    with pytest.raises(ValueError, match="outside the dataset folder"):
        load_waterbirds(tmp_path)


def test_waterbirds_refuses_an_image_listed_twice(tmp_path):
    write_waterbirds(tmp_path)
    lines = (tmp_path / "metadata.csv").read_text().splitlines()
    lines.append(lines[1].replace("0,0\n", "").rsplit(",", 2)[0] + ",2,0")  # the same image in the test split
    (tmp_path / "metadata.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="data rows 1 and 13"):
        load_waterbirds(tmp_path)
