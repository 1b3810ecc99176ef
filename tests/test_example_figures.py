"""The plot_* examples keep their figure: a PNG when run as scripts, the open figure for sphinx-gallery."""

import runpy
import sys
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import sklearn  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PLOTS = sorted(EXAMPLES.glob("plot_*.py"))


def _run(path):
    try:
        runpy.run_path(str(path), run_name="__main__")
        return plt.get_fignums()
    finally:
        sklearn.set_config(enable_metadata_routing=False)
        plt.close("all")


def test_every_plot_example_draws_and_saves_a_figure():
    assert len(PLOTS) >= 3
    for path in PLOTS:
        text = path.read_text(encoding="utf-8")
        assert "plt.subplots(" in text and "fig.savefig(" in text, f"{path.name} draws or saves no figure"


def test_a_script_run_writes_the_png_where_it_runs_and_says_where(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "sphinx_gallery", raising=False)  # imported by the docs tests
    assert _run(EXAMPLES / "plot_jtt_vs_erm.py")
    png = tmp_path / "plot_jtt_vs_erm.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    assert f"figure written to {png.resolve()}" in capsys.readouterr().out
    assert not (EXAMPLES / "plot_jtt_vs_erm.png").exists()


def test_under_sphinx_gallery_nothing_is_written_and_the_figure_stays_open(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "sphinx_gallery", types.ModuleType("sphinx_gallery"))
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() under sphinx-gallery"))
    figures = _run(EXAMPLES / "plot_jtt_vs_erm.py")
    assert figures, "sphinx-gallery's matplotlib scraper needs the figure left open"
    assert not list(tmp_path.iterdir())
    assert "figure written" not in capsys.readouterr().out
