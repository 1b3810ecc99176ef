"""The JTT paper's four settings (Waterbirds, CelebA, MultiNLI, CivilComments-WILDS) as JTTClassifiers.

Values come from the official code's README commands and the paper's appendix.
``lambda_up`` here counts an error row exactly that many times; the official
``--up_weight`` adds that many copies to the full set, hence the ``+ 1``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.utils import _safe_indexing

from .._jtt import JTTClassifier
from ..callbacks import WorstGroupScoring
from ..datasets import GroupSplit
from ..metrics import group_report, worst_group_accuracy
from ._text import make_text_pipeline
from ._vision import make_vision_net

if TYPE_CHECKING:
    from ..datasets import DatasetSplits

PAPER_SETTINGS: dict[str, dict[str, Any]] = {
    "waterbirds": dict(
        kind="vision",
        T=60,
        official_up_weight=100,
        lr=1e-5,
        weight_decay=1.0,
        batch_size=64,
        max_epochs=300,
    ),
    "celeba": dict(
        kind="vision",
        T=1,
        official_up_weight=50,
        lr=1e-5,
        weight_decay=0.1,
        batch_size=64,
        max_epochs=50,
    ),
    "multinli": dict(
        kind="text",
        T=2,
        official_up_weight=4,
        lr=2e-5,
        weight_decay=0.0,
        batch_size=32,
        max_epochs=5,
    ),
    "civilcomments": dict(
        kind="text",
        T=2,
        official_up_weight=6,
        lr=1e-5,
        weight_decay=0.01,
        batch_size=16,
        max_epochs=3,
        # The identification run of the official commands uses other settings than the final one.
        identifier=dict(lr=2e-5, weight_decay=0.0, batch_size=24),
    ),
}
"""The paper's hyperparameters per dataset (``official_up_weight`` is the official ``--up_weight``)."""


def paper_grid(dataset: Literal["waterbirds", "celeba", "multinli", "civilcomments"]) -> dict[str, list[int]]:
    """The paper's ``T`` and ``lambda_up`` for ``dataset`` as a search grid, with ``lambda_up=1`` beside them.

    ``lambda_up=1`` is plain ERM: searched beside the paper's value on your
    validation split, it lets the search answer "JTT does not help here".

    Parameters
    ----------
    dataset : {"waterbirds", "celeba", "multinli", "civilcomments"}

    Returns
    -------
    grid : dict
        ``{"T": [T], "lambda_up": [1, official --up_weight + 1]}``, for
        ``GridSearchCV`` or :func:`~jtt_sklearn.model_selection.tune_on_validation`.

    Examples
    --------
    >>> from jtt_sklearn.recipes import paper_grid
    >>> paper_grid("waterbirds")
    {'T': [60], 'lambda_up': [1, 101]}
    """
    if dataset not in PAPER_SETTINGS:
        raise ValueError(f"dataset must be one of {sorted(PAPER_SETTINGS)}, got {dataset!r}.")
    setting = PAPER_SETTINGS[dataset]
    return {"T": [setting["T"]], "lambda_up": [1, setting["official_up_weight"] + 1]}


def _net_params(setting, prefix=""):
    """skorch parameter names for a setting's lr, weight decay and batch size."""
    return {
        f"{prefix}lr": setting["lr"],
        f"{prefix}optimizer__weight_decay": setting["weight_decay"],
        f"{prefix}batch_size": setting["batch_size"],
    }


def _checkpoint_parent(checkpoint_dir, memory):
    """Where the final net's best epoch is saved: the given folder, else memory's, else "" (system temp).

    JTTClassifier saves each fit's checkpoints in a private folder inside this one and removes it when the
    fit ends, so "" leaves nothing behind in the system's temporary directory.
    """
    if checkpoint_dir is not None:
        return os.fspath(checkpoint_dir)
    if isinstance(memory, (str, os.PathLike)):
        return os.fspath(memory)
    return getattr(memory, "location", None) or ""  # a joblib.Memory, or none


def make_paper_jtt(
    dataset: Literal["waterbirds", "celeba", "multinli", "civilcomments"],
    *,
    weights_path: str | os.PathLike[str] | None = None,
    model_path: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    validation: tuple[Any, Any, Any] | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    memory: str | os.PathLike[str] | Any | None = None,
    verbose: int = 0,
    random_state: int | None = 0,
) -> JTTClassifier:
    """A JTTClassifier configured as in the paper for ``dataset``.

    Parameters
    ----------
    dataset : {"waterbirds", "celeba", "multinli", "civilcomments"}
    weights_path : str, default=None
        ImageNet ResNet-50 state dict for the vision settings (the paper
        starts from ImageNet weights); None trains from random weights.
    model_path : str, default=None
        Local BERT-style model directory for the text settings
        (``bert-base-uncased`` in the paper).
    device : str, default="cpu"
    validation : (X_val, y_val, group_labels_val), default=None
        When given, the final net records worst-group validation accuracy
        every epoch and keeps its best epoch, as the paper selects the
        stopping epoch.
    checkpoint_dir : str or path-like, default=None
        Folder in which that best epoch is saved during the fit, in a
        private sub-folder that is removed when the fit ends. None uses the
        ``memory`` folder when given, else the system's temporary directory;
        nothing is created before ``fit``.
    memory : str, path-like or joblib.Memory, default=None
        Passed to :class:`~jtt_sklearn.JTTClassifier`: caches stage 1 (and
        the final model), so a crash in stage 2 keeps the ``T`` stage-1
        epochs and a rerun trains only what is missing.
    verbose : int, default=0
        ``1`` says which JTT stage runs and prints skorch's table of epochs
        (loss, and worst-group validation accuracy of the final net).
    random_state : int, default=0
        Seeds both stages (weights, shuffling, augmentation).

    Returns
    -------
    clf : JTTClassifier

    Examples
    --------
    >>> from jtt_sklearn.recipes import make_paper_jtt
    >>> clf = make_paper_jtt("waterbirds")
    >>> clf.T, clf.lambda_up, clf.base_estimator.max_epochs
    (60, 101, 300)
    """
    if dataset not in PAPER_SETTINGS:
        raise ValueError(f"dataset must be one of {sorted(PAPER_SETTINGS)}; got {dataset!r}.")
    setting = PAPER_SETTINGS[dataset]
    net_verbose = 1 if verbose else 0
    if setting["kind"] == "vision":
        base = make_vision_net(
            "resnet50",
            weights_path=weights_path,
            max_epochs=setting["max_epochs"],
            device=device,
            num_workers=4 if str(device).startswith("cuda") else 0,
            verbose=net_verbose,
        )
        base.set_params(**_net_params(setting))
        prefix = ""
    else:
        n_labels = 3 if dataset == "multinli" else 2
        base = make_text_pipeline(
            model_path, num_labels=n_labels, max_epochs=setting["max_epochs"], device=device
        )
        prefix = "net__"
        base.set_params(**_net_params(setting, prefix), net__verbose=net_verbose)
    identifier_params = _net_params(setting["identifier"], prefix) if "identifier" in setting else None
    final_params = None
    if validation is not None:
        from skorch.callbacks import Checkpoint

        X_val, y_val, g_val = validation
        if prefix:
            # The callback runs on the net inside the Pipeline: give it tokenised validation
            # text. The preprocessing steps are stateless (a pretrained tokenizer).
            X_val = clone(base[:-1]).fit_transform(X_val)
        callbacks = list(base.get_params()[f"{prefix}callbacks"] or [])
        callbacks += [
            ("worst_group", WorstGroupScoring(X_val, y_val, g_val, classes=np.unique(y_val))),
            (
                "best",
                Checkpoint(
                    monitor="valid_worst_group_best",
                    dirname=_checkpoint_parent(checkpoint_dir, memory),
                    load_best=True,
                    # The weights only: predictions need nothing else, and SGD's momentum would
                    # double each save (ResNet-50: 94 MB of weights).
                    f_optimizer=None,
                    f_criterion=None,
                    f_history=None,
                ),
            ),
        ]
        final_params = {f"{prefix}callbacks": callbacks}
    return JTTClassifier(
        base,
        T=setting["T"],
        lambda_up=setting["official_up_weight"] + 1,
        identifier_params=identifier_params,
        final_params=final_params,
        memory=memory,
        verbose=verbose,
        random_state=random_state,
    )


def adjusted_average_accuracy(
    y_true: ArrayLike, y_pred: ArrayLike, *, group_labels: ArrayLike, train_group_labels: ArrayLike
) -> float:
    """Per-group accuracy weighted by each group's share of the *training* rows.

    The JTT and Group DRO papers report this as Waterbirds' "average
    accuracy": its validation and test groups are balanced, its training
    groups are not (about 95% of birds on their usual background), so the
    plain test accuracy would weigh the rare groups as much as the common
    ones. Groups absent from training weigh nothing.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Test labels and predictions.
    group_labels : array-like of shape (n_samples,)
        Group of each test row.
    train_group_labels : array-like of shape (n_train,)
        Group of each training row; only their counts are used.

    Returns
    -------
    accuracy : float

    Examples
    --------
    >>> from jtt_sklearn.recipes import adjusted_average_accuracy
    >>> # test: group 0 all right, group 1 half right; training: 3 rows of group 0, 1 of group 1
    >>> adjusted_average_accuracy([0, 0, 1, 1], [0, 0, 1, 0], group_labels=[0, 0, 1, 1],
    ...                           train_group_labels=[0, 0, 0, 1])
    0.875
    """
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), np.asarray(group_labels)
    train_groups, train_counts = np.unique(np.asarray(train_group_labels), return_counts=True)
    missing = [g.item() for g in train_groups if not np.any(groups == g)]
    if missing:
        raise ValueError(
            f"Training groups {missing} have no test rows, so their accuracy (and the adjusted average) "
            "is undefined. Score on a test split that holds every training group."
        )
    accuracies = np.array([np.mean(y_pred[groups == g] == y_true[groups == g]) for g in train_groups])
    return float(accuracies @ (train_counts / train_counts.sum()))


def report_paper_run(
    clf: JTTClassifier, splits: DatasetSplits, out: Callable[[str], Any] = print
) -> dict[str, float]:
    """Print the per-group validation and test reports of a fitted paper setting; return its figures.

    Parameters
    ----------
    clf : fitted classifier
    splits : DatasetSplits
        The splits it was trained on (a loader's output).
    out : callable, default=print
        Receives each report.

    Returns
    -------
    scores : dict
        ``validation_worst_group``, ``validation_average``,
        ``test_worst_group`` and ``test_average`` (accuracies in [0, 1]);
        for Waterbirds also ``test_adjusted_average``, the paper's "average
        accuracy" (see :func:`adjusted_average_accuracy`).
    """
    names = getattr(splits, "group_names", None)
    scores, predicted = {}, {}
    for split_name, (X, y, groups) in (("validation", splits.validation), ("test", splits.test)):
        predicted[split_name] = predictions = np.asarray(clf.predict(X))  # each split predicted once
        out(f"{split_name}:\n" + group_report(y, predictions, group_labels=groups, group_names=names))
        scores[f"{split_name}_worst_group"] = worst_group_accuracy(y, predictions, group_labels=groups)
        scores[f"{split_name}_average"] = float(np.mean(predictions == np.asarray(y)))
    if getattr(splits, "name", None) == "waterbirds":
        scores["test_adjusted_average"] = adjusted_average_accuracy(
            splits.test.y, predicted["test"], group_labels=splits.test.group_labels,
            train_group_labels=splits.train.group_labels,
        )  # fmt: skip
    line = f"test worst-group accuracy {scores['test_worst_group']:.3f}, average {scores['test_average']:.3f}"
    if "test_adjusted_average" in scores:
        adjusted = scores["test_adjusted_average"]
        line += f", adjusted average {adjusted:.3f} (groups weighted by their training share)"
    out(line)
    return scores


# The official JTT code's image transforms (anniesch/jtt, data/cub_dataset.py `get_transform_cub` and
# data/celebA_dataset.py `get_transform_celebA`, as in kohpangwei/group_DRO), at ResNet-50's 224 px.
# Its Waterbirds and CelebA commands never pass --augment_data (run_expt.py's default is False), so
# the paper's runs train on the evaluation transform; ``augment=True`` gives the code's other branch.
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
_CELEBA_SIDE = 178  # CelebA's aligned images are 178 x 218: the official code centre-crops their short side


def official_transforms(
    dataset: Literal["waterbirds", "celeba"], *, size: int = 224, augment: bool = False
) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """The official JTT code's training and evaluation transforms for Waterbirds or CelebA.

    Waterbirds (``get_transform_cub``): resize to ``size * 256 / 224`` square,
    centre-crop ``size``; with ``augment``, training takes
    ``RandomResizedCrop(size, scale=(0.7, 1.0), ratio=(0.75, 4/3))`` and a
    horizontal flip instead. CelebA (``get_transform_celebA``): centre-crop
    178 (the short side of its images), resize to ``size``; with
    ``augment``, ``RandomResizedCrop(size, scale=(0.7, 1.0), ratio=(1.0,
    4/3))`` and a flip. Both end with ``ToTensor`` and ImageNet's
    normalisation. The official runs use ``augment=False``.

    Parameters
    ----------
    dataset : {"waterbirds", "celeba"}
    size : int, default=224
        Side of the square input (224 for ResNet-50; smaller for a quick run).
    augment : bool, default=False
        The official ``--augment_data`` branch for training.

    Returns
    -------
    train_transform, eval_transform : callable
        For ``load_waterbirds(..., train_transform=..., transform=...)``.

    Examples
    --------
    >>> from jtt_sklearn.recipes import official_transforms
    >>> train, evaluation = official_transforms("waterbirds")
    >>> [type(step).__name__ for step in evaluation.transforms]
    ['Resize', 'CenterCrop', 'ToTensor', 'Normalize']
    >>> evaluation.transforms[0].size
    (256, 256)
    """
    from torchvision import transforms

    if dataset not in ("waterbirds", "celeba"):
        raise ValueError(f"dataset must be 'waterbirds' or 'celeba', got {dataset!r}.")
    tensor = [transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    if dataset == "waterbirds":
        side = int(size * 256 / 224)
        evaluation = [transforms.Resize((side, side)), transforms.CenterCrop(size)]
        ratio = (0.75, 4 / 3)
    else:
        evaluation = [transforms.CenterCrop(_CELEBA_SIDE), transforms.Resize((size, size))]
        ratio = (1.0, 4 / 3)
    eval_transform = transforms.Compose(evaluation + tensor)
    if not augment:
        return eval_transform, eval_transform
    crop = transforms.RandomResizedCrop(size, scale=(0.7, 1.0), ratio=ratio)
    return transforms.Compose([crop, transforms.RandomHorizontalFlip(), *tensor]), eval_transform


# --smoke: the same protocol (two stages, worst-group epoch selection, the reports) at a size that
# runs in seconds on a CPU: a random ResNet-18 on 32 px images or a one-layer random BERT, short
# stages, a small lambda_up (the paper's 101 makes an epoch up to 100 times longer) and at most
# `rows` rows of each split (every group kept), so that a full dataset folder is checked quickly too.
_SMOKE: dict[str, Any] = dict(
    T=1,
    lambda_up=3,
    max_epochs=2,
    batch_size=32,
    image_size=32,
    max_length=16,
    rows={"train": 128, "validation": 64, "test": 256},
)


def _smoke_rows(groups, cap, seed):
    """At most about ``cap`` rows, each group in its share and at least once, in a seeded draw."""
    if len(groups) <= cap:
        return np.arange(len(groups))
    rng = np.random.RandomState(seed)
    keep = [
        rng.choice(rows, max(1, round(cap * rows.size / len(groups))), replace=False)
        for rows in (np.flatnonzero(groups == g) for g in np.unique(groups))
    ]
    return np.sort(np.concatenate(keep))


def _smoke_splits(splits, seed):
    """``splits`` with each split cut to its smoke size."""
    from torch.utils.data import Dataset, Subset

    cut = {}
    for name, (X, y, groups) in zip(("train", "validation", "test"), splits):
        rows = _smoke_rows(groups, _SMOKE["rows"][name], seed)
        X = Subset(X, rows.tolist()) if isinstance(X, Dataset) else _safe_indexing(X, rows)
        cut[name] = GroupSplit(X, y[rows], groups[rows])
    return dataclasses.replace(splits, **cut)


def _smoke_config(tokenizer_path):
    """A one-layer random BERT that trains in seconds on a CPU."""
    from transformers import AutoTokenizer, BertConfig

    vocab = AutoTokenizer.from_pretrained(str(tokenizer_path)).vocab_size
    return BertConfig(
        vocab_size=vocab,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )


def _apply_smoke(clf, kind, model_path):
    if kind == "vision":
        net_params = dict(module__arch="resnet18", module__weights_path=None)  # ResNet-50 weights do not fit
        prefix = "base_estimator__"
    else:
        net_params = dict(module__config=_smoke_config(model_path))
        prefix = "base_estimator__net__"
        clf.set_params(base_estimator__tokenizer__max_length=_SMOKE["max_length"])
    net_params.update(max_epochs=_SMOKE["max_epochs"], batch_size=_SMOKE["batch_size"])
    clf.set_params(
        T=_SMOKE["T"], lambda_up=_SMOKE["lambda_up"], **{prefix + k: v for k, v in net_params.items()}
    )
    # identifier_params (CivilComments) may set another stage-1 batch size: keep it small too.
    if clf.identifier_params:
        clf.set_params(
            identifier_params={
                k: _SMOKE["batch_size"] if k.endswith("batch_size") else v
                for k, v in clf.identifier_params.items()
            }
        )


def run_paper_setting(
    dataset: Literal["waterbirds", "celeba", "multinli", "civilcomments"],
    root: str | os.PathLike[str],
    *,
    weights_path: str | os.PathLike[str] | None = None,
    model_path: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    smoke: bool = False,
    seed: int = 0,
    memory: str | os.PathLike[str] | None = None,
    augment: bool = False,
    verbose: int = 1,
    out: Callable[[str], Any] = print,
) -> tuple[JTTClassifier, dict[str, float]]:
    """Load a paper dataset from ``root``, fit its paper setting, print per-group reports.

    Images go through the official code's transforms
    (:func:`official_transforms`). ``smoke=True`` keeps the protocol but
    shrinks everything (a random ResNet-18 on 32 x 32 images or a one-layer
    random BERT with ``model_path``'s tokenizer, ``T=1``, 2 final epochs,
    ``lambda_up=3``, batch 32, at most about 128 training, 64 validation and
    256 test rows drawn with every group kept) so that it runs in seconds,
    also on a full dataset folder.

    Parameters
    ----------
    dataset : {"waterbirds", "celeba", "multinli", "civilcomments"}
    root : str or path-like
        The dataset's folder, as its loader in :mod:`jtt_sklearn.datasets` reads it.
    weights_path, model_path, device
        As in :func:`make_paper_jtt`.
    smoke : bool, default=False
        The quick run described above.
    seed : int, default=0
        ``random_state`` of the JTTClassifier.
    memory : str or path-like, default=None
        Cache folder (see :func:`make_paper_jtt`): rerun the same command
        after a crash in stage 2 and stage 1 is read from it. The final
        net's checkpoints are kept there during the fit.
    augment : bool, default=False
        The official code's training augmentation (its runs do not use it).
    verbose : int, default=1
        Progress: the JTT stage that runs and skorch's line per epoch.
    out : callable, default=print
        Receives the run's own lines and the reports.

    Returns
    -------
    clf : JTTClassifier
        The fitted classifier.
    scores : dict
        What :func:`report_paper_run` returns (test worst-group and average
        accuracy, adjusted average for Waterbirds).
    """
    from .. import datasets

    if dataset not in PAPER_SETTINGS:
        raise ValueError(f"dataset must be one of {sorted(PAPER_SETTINGS)}; got {dataset!r}.")
    setting = PAPER_SETTINGS[dataset]
    loader: Callable[..., DatasetSplits]  # the two branches' loaders take different keywords
    if dataset in ("waterbirds", "celeba"):
        loader = datasets.load_waterbirds if dataset == "waterbirds" else datasets.load_celeba
        train_transform, transform = official_transforms(
            dataset, size=_SMOKE["image_size"] if smoke else 224, augment=augment
        )
        splits = loader(root, transform=transform, train_transform=train_transform)
    else:
        loader = datasets.load_multinli if dataset == "multinli" else datasets.load_civilcomments
        splits = loader(root)
    sizes = [len(split.y) for split in splits]
    line = f"{dataset}: {sizes[0]} training, {sizes[1]} validation, {sizes[2]} test rows from {root}"
    if smoke:
        splits = _smoke_splits(splits, seed)
        line += "; the smoke run uses {}, {} and {} of them".format(*(len(split.y) for split in splits))
    out(line)
    X_train, y_train, _ = splits.train
    clf = make_paper_jtt(
        dataset,
        weights_path=weights_path,
        model_path=model_path,
        device=device,
        validation=tuple(splits.validation),
        memory=memory,
        verbose=verbose,
        random_state=seed,
    )
    if smoke:
        _apply_smoke(clf, setting["kind"], model_path)
    net_params = clf.base_estimator.get_params()
    final_epochs = net_params.get("max_epochs") or net_params["net__max_epochs"]
    out(
        f"T={clf.T}, lambda_up={clf.lambda_up} (official --up_weight {setting['official_up_weight']}"
        f"{', smoke run: ' + str(_SMOKE) if smoke else ''}), {final_epochs} final epochs, seed {seed}"
        + (f", cache {memory}" if memory is not None else "")
    )
    clf.fit(X_train, y_train)
    out(f"error set: {clf.error_set_.size} rows")
    return clf, report_paper_run(clf, splits, out=out)
