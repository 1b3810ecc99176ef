"""The JTT paper's four settings (Waterbirds, CelebA, MultiNLI, CivilComments-WILDS) as JTTClassifiers.

Values come from the official code's README commands and the paper's appendix.
``lambda_up`` here counts an error row exactly that many times; the official
``--up_weight`` adds that many copies to the full set, hence the ``+ 1``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sklearn.base import clone

from .._jtt import JTTClassifier
from ..callbacks import WorstGroupScoring
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


def make_paper_jtt(
    dataset: Literal["waterbirds", "celeba", "multinli", "civilcomments"],
    *,
    weights_path: str | os.PathLike[str] | None = None,
    model_path: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    validation: tuple[Any, Any, Any] | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
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
    checkpoint_dir : str, default=None
        Where that best epoch is saved (a temporary directory by default).
    random_state : int, default=0

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
    if setting["kind"] == "vision":
        base = make_vision_net(
            "resnet50",
            weights_path=weights_path,
            max_epochs=setting["max_epochs"],
            device=device,
            num_workers=4 if str(device).startswith("cuda") else 0,
        )
        base.set_params(**_net_params(setting))
        prefix = ""
    else:
        n_labels = 3 if dataset == "multinli" else 2
        base = make_text_pipeline(
            model_path, num_labels=n_labels, max_epochs=setting["max_epochs"], device=device
        )
        prefix = "net__"
        base.set_params(**_net_params(setting, prefix))
    identifier_params = _net_params(setting["identifier"], prefix) if "identifier" in setting else None
    final_params = None
    if validation is not None:
        from skorch.callbacks import Checkpoint

        X_val, y_val, g_val = validation
        if prefix:
            # The callback runs on the net inside the Pipeline: give it tokenised validation
            # text. The preprocessing steps are stateless (a pretrained tokenizer).
            X_val = clone(base[:-1]).fit_transform(X_val)
        directory = checkpoint_dir or tempfile.mkdtemp(prefix=f"jtt_{dataset}_")
        callbacks = list(base.get_params()[f"{prefix}callbacks"] or [])
        callbacks += [
            ("worst_group", WorstGroupScoring(X_val, y_val, g_val, classes=np.unique(y_val))),
            (
                "best",
                Checkpoint(
                    monitor="valid_worst_group_best", dirname=directory, load_best=True, f_history=None
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
        random_state=random_state,
    )


def report_paper_run(clf: JTTClassifier, splits: DatasetSplits, out: Callable[[str], Any] = print) -> float:
    """Print the per-group validation and test report of a fitted paper setting; return test worst-group."""
    names = getattr(splits, "group_names", None)
    for split_name, (X, y, groups) in (("validation", splits.validation), ("test", splits.test)):
        out(f"{split_name}:\n" + group_report(y, clf.predict(X), group_labels=groups, group_names=names))
    X_test, y_test, g_test = splits.test
    return worst_group_accuracy(y_test, clf.predict(X_test), group_labels=g_test)


def _image_transform(size, smoke):
    from torchvision import transforms

    steps = [transforms.Resize((size, size)), transforms.ToTensor()]
    if not smoke:  # ImageNet statistics, as the pretrained weights expect
        steps.append(transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]))
    return transforms.Compose(steps)


def _smoke_config(tokenizer_path):
    """A two-layer random BERT that trains in seconds on a CPU."""
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


def run_paper_setting(
    dataset: Literal["waterbirds", "celeba", "multinli", "civilcomments"],
    root: str | os.PathLike[str],
    *,
    weights_path: str | os.PathLike[str] | None = None,
    model_path: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    smoke: bool = False,
    out: Callable[[str], Any] = print,
) -> tuple[JTTClassifier, float]:
    """Load a paper dataset from ``root``, fit its paper setting, print per-group reports.

    ``smoke=True`` keeps the protocol but shrinks everything (ResNet-18 on
    32x32 images, a one-layer random BERT with ``model_path``'s tokenizer,
    one epoch per stage) so the script runs in seconds on tiny fixtures.

    Returns
    -------
    clf : JTTClassifier
        The fitted classifier.
    test_worst_group : float
    """
    from .. import datasets

    setting = PAPER_SETTINGS[dataset]
    loader: Callable[..., DatasetSplits]  # the two branches' loaders take different keywords
    if setting["kind"] == "vision":
        loader = datasets.load_waterbirds if dataset == "waterbirds" else datasets.load_celeba
        splits = loader(root, transform=_image_transform(32 if smoke else 224, smoke))
    else:
        loader = datasets.load_multinli if dataset == "multinli" else datasets.load_civilcomments
        splits = loader(root)
    X_train, y_train, _ = splits.train
    clf = make_paper_jtt(
        dataset,
        weights_path=weights_path,
        model_path=model_path,
        device=device,
        validation=tuple(splits.validation),
    )
    if smoke:
        if setting["kind"] == "vision":
            clf.set_params(
                T=1,
                base_estimator__module__arch="resnet18",
                base_estimator__max_epochs=1,
                base_estimator__batch_size=4,
            )
        else:
            clf.set_params(
                T=1,
                base_estimator__net__module__config=_smoke_config(model_path),
                base_estimator__net__max_epochs=1,
                base_estimator__tokenizer__max_length=16,
            )
    out(
        f"{dataset}: {len(y_train)} training rows, T={clf.T}, lambda_up={clf.lambda_up} "
        f"(official --up_weight {setting['official_up_weight']})"
    )
    clf.fit(X_train, y_train)
    out(f"error set: {clf.error_set_.size} rows")
    return clf, report_paper_run(clf, splits, out=out)
