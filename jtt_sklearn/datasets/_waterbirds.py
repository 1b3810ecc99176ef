"""Waterbirds and CelebA read from folders the user already has, images loaded lazily."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch.utils.data import Dataset

from ._base import (
    DatasetSplits,
    GroupSplit,
    _group_ids,
    _int_column,
    _read_csv,
    _split_codes,
)


def _pil_to_tensor(image):
    """RGB PIL image to a float tensor (3, H, W) in [0, 1], without torchvision."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(array.transpose(2, 0, 1).copy())


class ImageFolderDataset(Dataset):
    """Images listed by path, opened only when indexed.

    A :class:`torch.utils.data.Dataset` whose item ``i`` is
    ``(image, targets[i])``: the image file opened with PIL, converted to
    RGB and passed to ``transform`` (by default a float tensor of shape
    ``(3, H, W)`` in [0, 1]). Labels and groups are plain numpy arrays, so a
    meta-estimator can read them without opening a single image.

    Parameters
    ----------
    paths : sequence of str or path-like
        One image file per row.
    targets : array-like of int, shape (n_samples,)
        Label of each row.
    group_labels : array-like of int, shape (n_samples,), default=None
        Group id of each row, kept for convenience.
    transform : callable, default=None
        Applied to the RGB PIL image, e.g. a torchvision ``Compose``. None
        converts to a tensor; images of different sizes then cannot be put
        in one batch, so pass a transform that resizes them for training.

    Attributes
    ----------
    targets : ndarray of shape (n_samples,), dtype int64
        Labels; ``y`` is an alias.
    group_labels : ndarray of shape (n_samples,), dtype int64 or None
        Group ids.
    paths : list of pathlib.Path
        Image files.

    Examples
    --------
    >>> import numpy as np
    >>> from jtt_sklearn.datasets import ImageFolderDataset
    >>> dataset = ImageFolderDataset(["a.png", "b.png"], [0, 1])
    >>> len(dataset), dataset.targets
    (2, array([0, 1]))
    """

    def __init__(
        self,
        paths: Iterable[str | os.PathLike[str]],
        targets: ArrayLike,
        group_labels: ArrayLike | None = None,
        transform: Callable[[Any], Any] | None = None,
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.targets = np.asarray(targets, dtype=np.int64)
        self.group_labels = None if group_labels is None else np.asarray(group_labels, dtype=np.int64)
        if len(self.targets) != len(self.paths):
            raise ValueError(f"Got {len(self.paths)} paths but {len(self.targets)} targets.")
        self.transform = transform

    @property
    def y(self) -> np.ndarray:
        """Alias of ``targets``."""
        return self.targets

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int | np.integer | torch.Tensor) -> tuple[Any, np.int64]:
        from PIL import Image

        # A tensor or numpy integer too; slices are not supported.
        position = int(index.item() if isinstance(index, torch.Tensor) else index)
        with Image.open(self.paths[position]) as image:
            image = image.convert("RGB")
        image = _pil_to_tensor(image) if self.transform is None else self.transform(image)
        return image, self.targets[position]

    def __getitems__(self, indices):
        # torch's DataLoader asks for a whole batch here; torch's collate would fail on mixed sizes.
        items = [self[i] for i in indices]
        sizes = {tuple(image.shape) for image, _ in items if isinstance(image, torch.Tensor)}
        if self.transform is None and len(sizes) > 1:
            shown = " and ".join("x".join(map(str, size[1:])) for size in sorted(sizes)[:2])
            raise ValueError(
                f"Images of different sizes ({shown}, height x width) cannot share a batch, and "
                "this dataset has no transform to resize them. Pass a resizing transform, e.g. "
                "transform=torchvision.transforms.Compose([Resize((224, 224)), ToTensor()])."
            )
        return items

    def __repr__(self):
        return f"{type(self).__name__}(n_samples={len(self)})"


def _check_relative_names(names, path, column):
    """Image names must stay inside the dataset folder and name each image once."""
    seen: dict[str, int] = {}
    for row, name in enumerate(names, 1):
        if PurePath(name).is_absolute() or ".." in PurePath(name).parts:
            raise ValueError(
                f"{path}: column {column!r}, data row {row} names {name!r}, outside the dataset "
                "folder. Image names must be relative paths inside it (no '..', not absolute)."
            )
        if name in seen:
            raise ValueError(
                f"{path}: column {column!r} names {name!r} in data rows {seen[name]} and {row}; each "
                "image must appear once (a row in two splits would leak between them). Remove the "
                "duplicate rows."
            )
        seen[name] = row


def _check_images(paths, hint):
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of {len(paths)} image files are missing, e.g. "
            f"{missing[0]}. {hint} Pass check_files=False to skip this check."
        )


def _image_splits(paths, y, attribute, split, groups_meta, transform, train_transform):
    groups = _group_ids(y, attribute, 2, 2)
    out = []
    for code in (0, 1, 2):
        rows = np.flatnonzero(split == code)
        chosen = train_transform if code == 0 and train_transform is not None else transform
        dataset = ImageFolderDataset([paths[i] for i in rows], y[rows], groups[rows], transform=chosen)
        out.append(GroupSplit(dataset, y[rows], groups[rows]))
    train, validation, test = out
    return DatasetSplits(train, validation, test, **groups_meta)


_WATERBIRDS_SOURCE = (
    "Waterbirds is not downloaded by jtt-sklearn: build it with the group-DRO "
    "code (https://github.com/kohpangwei/group_DRO) or get the prepared "
    "'waterbird_complete95_forest2water2' folder, which holds metadata.csv "
    "(columns img_id, img_filename, y, split, place) next to the image "
    "sub-folders."
)


def load_waterbirds(
    root: str | os.PathLike[str],
    *,
    transform: Callable[[Any], Any] | None = None,
    train_transform: Callable[[Any], Any] | None = None,
    check_files: bool = True,
) -> DatasetSplits:
    """Load Waterbirds (Sagawa et al., 2020) from a local folder.

    Reads ``<root>/metadata.csv`` with columns ``img_id, img_filename, y,
    split, place``; images are ``<root>/<img_filename>`` and are opened
    only when indexed. The official splits are kept (``split`` 0/1/2 =
    train/validation/test); nothing is random and nothing is downloaded.

    * **Label** ``y``: 0 = landbird, 1 = waterbird.
    * **Attribute** ``place``: 0 = land background, 1 = water background.
    * **Groups** (``y * 2 + place``): 0 = landbird on land, 1 = landbird on
      water, 2 = waterbird on land, 3 = waterbird on water; groups 1 and 2
      are the training minorities (about 5%).

    Parameters
    ----------
    root : str or path-like
        The dataset folder, e.g. ``.../waterbird_complete95_forest2water2``.
    transform : callable, default=None
        Applied to each RGB PIL image of validation and test (and of train
        unless ``train_transform`` is given), e.g. torchvision's
        ``Compose([Resize((224, 224)), ToTensor(), Normalize(...)])``.
        None gives a float tensor ``(3, H, W)`` in [0, 1] at the image's own
        size.
    train_transform : callable, default=None
        Transform for the training split (e.g. with augmentation); None uses
        ``transform``.
    check_files : bool, default=True
        Check now that every image file exists, rather than failing in the
        middle of training.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` as ``(X, y, group_labels)`` where ``X``
        is an :class:`ImageFolderDataset` yielding ``(image, label)``.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_waterbirds
    >>> train, val, test = load_waterbirds("data/waterbirds")  # doctest: +SKIP
    >>> image, label = train.X[0]  # doctest: +SKIP
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Waterbirds folder not found: {root}. {_WATERBIRDS_SOURCE}")
    meta_path = root / "metadata.csv"
    meta = _read_csv(meta_path, ("img_filename", "y", "split", "place"), _WATERBIRDS_SOURCE)
    y = _int_column(meta["y"], meta_path, "y", allowed={0, 1})
    place = _int_column(meta["place"], meta_path, "place", allowed={0, 1})
    split = _split_codes(meta["split"], meta_path, "split")
    _check_relative_names(meta["img_filename"], meta_path, "img_filename")
    paths = [root / name for name in meta["img_filename"]]
    if check_files:
        _check_images(paths, _WATERBIRDS_SOURCE)
    return _image_splits(
        paths,
        y,
        place,
        split,
        dict(
            name="waterbirds",
            label_names=("landbird", "waterbird"),
            attribute_names=("land background", "water background"),
            description=(
                "Waterbirds: birds from CUB pasted on Places backgrounds. Label: "
                "waterbird; attribute: water background. Official splits."
            ),
        ),
        transform,
        train_transform,
    )


_CELEBA_SOURCE = (
    "CelebA is not downloaded by jtt-sklearn: get it from "
    "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (or the Kaggle copy "
    "'jessicali9530/celeba-dataset'), which provides list_attr_celeba.csv, "
    "list_eval_partition.csv and the img_align_celeba/ image folder."
)


def _celeba_image_dir(root, first_image):
    # The Kaggle archive nests the images one level deeper.
    for folder in (root / "img_align_celeba", root / "img_align_celeba" / "img_align_celeba"):
        if (folder / first_image).is_file():
            return folder
    raise FileNotFoundError(
        f"CelebA images not found: expected {root / 'img_align_celeba' / first_image}. " + _CELEBA_SOURCE
    )


def load_celeba(
    root: str | os.PathLike[str],
    *,
    target: str = "Blond_Hair",
    attribute: str = "Male",
    transform: Callable[[Any], Any] | None = None,
    train_transform: Callable[[Any], Any] | None = None,
    check_files: bool = True,
) -> DatasetSplits:
    """Load CelebA with a target and a spurious attribute from a local folder.

    Reads ``<root>/list_attr_celeba.csv`` (``image_id`` plus 40 attribute
    columns with values -1/1) and ``<root>/list_eval_partition.csv``
    (``image_id, partition`` with 0/1/2 = train/validation/test); images
    are read lazily from ``<root>/img_align_celeba/`` (or the nested
    ``img_align_celeba/img_align_celeba/`` of the Kaggle copy). The official
    partition is kept; nothing is random and nothing is downloaded.

    With the defaults, as in the JTT paper: label ``y = 1`` for blond hair,
    attribute 1 for male. Groups (``y * 2 + attribute``): 0 = not blond,
    not male; 1 = not blond, male; 2 = blond, not male; 3 = blond, male (the
    smallest group, under 1% of train).

    Parameters
    ----------
    root : str or path-like
        The CelebA folder.
    target : str, default="Blond_Hair"
        Attribute column used as the label (1 -> ``y = 1``, -1 -> ``y = 0``).
    attribute : str, default="Male"
        Attribute column used as the spurious attribute.
    transform : callable, default=None
        Applied to each RGB PIL image of validation and test (and of train
        unless ``train_transform`` is given). None gives a float tensor
        ``(3, 218, 178)`` in [0, 1].
    train_transform : callable, default=None
        Transform for the training split; None uses ``transform``.
    check_files : bool, default=True
        Check now that every image file exists.

    Returns
    -------
    splits : DatasetSplits
        ``train, validation, test`` as ``(X, y, group_labels)`` where ``X``
        is an :class:`ImageFolderDataset` yielding ``(image, label)``.

    Examples
    --------
    >>> from jtt_sklearn.datasets import load_celeba
    >>> splits = load_celeba("data/celeba")  # doctest: +SKIP
    >>> splits.group_names[3]  # doctest: +SKIP
    'y=1 (Blond_Hair), Male'
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"CelebA folder not found: {root}. {_CELEBA_SOURCE}")
    if target == attribute:
        raise ValueError(f"target and attribute must differ; both are {target!r}.")
    attr_path = root / "list_attr_celeba.csv"
    part_path = root / "list_eval_partition.csv"
    attrs = _read_csv(attr_path, ("image_id", target, attribute), _CELEBA_SOURCE)
    parts = _read_csv(part_path, ("image_id", "partition"), _CELEBA_SOURCE)

    partition_of = dict(zip(parts["image_id"], parts["partition"]))
    ids = attrs["image_id"]
    no_partition = [i for i in ids if i not in partition_of]
    if no_partition or len(partition_of) != len(ids):
        raise ValueError(
            f"{attr_path} and {part_path} list different images "
            f"({len(ids)} vs {len(partition_of)} rows"
            + (f"; e.g. {no_partition[0]} has no partition" if no_partition else "")
            + "). Use the two files from the same CelebA release."
        )
    split = _split_codes([partition_of[i] for i in ids], part_path, "partition")
    y = (_int_column(attrs[target], attr_path, target, allowed={-1, 1}) == 1).astype(np.int64)
    a = (_int_column(attrs[attribute], attr_path, attribute, allowed={-1, 1}) == 1).astype(np.int64)

    if not ids:
        raise ValueError(f"{attr_path} lists no images.")
    image_dir = _celeba_image_dir(root, ids[0])
    paths = [image_dir / i for i in ids]
    if check_files:
        _check_images(paths, _CELEBA_SOURCE)
    return _image_splits(
        paths,
        y,
        a,
        split,
        dict(
            name="celeba",
            label_names=(f"not {target}", target),
            attribute_names=(f"not {attribute}", attribute),
            description=(
                f"CelebA. Label: {target}; attribute: {attribute}. Official train/validation/test partition."
            ),
        ),
        transform,
        train_transform,
    )
