"""Every script in examples/ runs to the end and prints what it promises."""

import runpy
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import sklearn  # noqa: E402

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a script run saves its figure in the current directory
    monkeypatch.delitem(sys.modules, "sphinx_gallery", raising=False)  # imported by the docs tests
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        sklearn.set_config(enable_metadata_routing=False)
        plt.close("all")
    assert "worst-group" in capsys.readouterr().out
    if path.name.startswith("plot_"):
        assert (tmp_path / f"{path.stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_validation_protocol_example_shows_the_two_selections_differ(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES[0].parent / "plot_validation_protocol.py"), run_name="__main__")
    out = capsys.readouterr().out
    by_worst = next(line for line in out.splitlines() if line.startswith("chosen by worst-group"))
    by_accuracy = next(line for line in out.splitlines() if line.startswith("chosen by average"))
    assert by_worst.split(":", 1)[1].strip() != by_accuracy.split(":", 1)[1].strip()
