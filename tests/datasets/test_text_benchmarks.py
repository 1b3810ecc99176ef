"""load_multinli and load_civilcomments: the paper's text benchmarks from their CSV files."""

import numpy as np
import pytest
from sklearn.experimental import enable_halving_search_cv  # noqa: F401

from jtt_sklearn.datasets import (
    has_negation,
    load_civilcomments,
    load_multinli,
)

from .._fixtures import (
    check_layout,
    spurious_attribute,
    write_civil,
    write_multinli,
)


def test_has_negation_word_list():
    mask = has_negation(["No way.", "nothing", "Knobody", "a nose", "NEVER", "no-one"])
    assert mask.tolist() == [True, True, False, False, True, True]


def test_load_multinli(tmp_path):
    write_multinli(tmp_path)
    splits = load_multinli(tmp_path)
    check_layout(splits, n_groups=6)
    X = splits.train.X
    assert X.shape == (6, 2) and X.dtype == object and X[0, 0] == "Premise 0, with comma"
    np.testing.assert_array_equal(spurious_attribute(splits.train), np.arange(6) % 2)
    assert splits.group_names[1] == "y=0 (contradiction), negation"


def test_load_multinli_flag_column_and_label_words(tmp_path):
    write_multinli(tmp_path, with_flag=True, named=True)
    splits = load_multinli(tmp_path)
    np.testing.assert_array_equal(splits.train.y, np.arange(6) % 3)
    np.testing.assert_array_equal(spurious_attribute(splits.train), 1 - np.arange(6) % 2)


def test_load_multinli_explains_group_dro_metadata(tmp_path):
    (tmp_path / "metadata_random.csv").write_text("gold_label,sentence2_has_negation,split\n")
    with pytest.raises(FileNotFoundError, match="no sentences"):
        load_multinli(tmp_path)


def test_load_civilcomments(tmp_path):
    write_civil(tmp_path)
    splits = load_civilcomments(tmp_path)
    check_layout(splits)
    X_all = np.concatenate([s.X for s in splits])
    assert len(X_all) == 12 and X_all[0] == "comment 0\nsecond line"
    # i = 0..11: train rows are i = 0, 3, 6, 9
    np.testing.assert_array_equal(splits.train.y, [0, 1, 1, 0])
    np.testing.assert_array_equal(spurious_attribute(splits.train), [0, 1, 0, 1])


def test_load_civilcomments_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="wilds"):
        load_civilcomments(tmp_path)
    write_civil(tmp_path, toxicity_cell="")
    with pytest.raises(ValueError, match="toxicity"):
        load_civilcomments(tmp_path)


def test_multinli_names_the_row_with_a_dash_label_and_the_allowed_values(tmp_path):
    write_multinli(tmp_path, named=True)
    text = (tmp_path / "multinli.csv").read_text().splitlines()
    text[5] = text[5].replace("entailment", "-").replace("neutral", "-").replace("contradiction", "-")
    (tmp_path / "multinli.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(ValueError, match=r"data row 5 .*'-'.*contradiction, entailment, neutral or 0, 1, 2"):
        load_multinli(tmp_path)
