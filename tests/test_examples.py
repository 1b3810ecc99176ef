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


@pytest.mark.filterwarnings("ignore::jtt_sklearn.exceptions.WeakIdentifierWarning")  # a one-epoch stage 1
def test_reproduce_smoke_run_shows_progress_and_takes_seed_and_memory(capsys, tmp_path):
    pytest.importorskip("torchvision")
    folder = EXAMPLES[0].parent / "paper_settings"
    smoke_folder = runpy.run_path(str(folder / "smoke_folder.py"))
    smoke_folder["main"]([str(tmp_path / "data"), "--n", "40", "--size", "32"])
    reproduce = runpy.run_path(str(folder / "reproduce.py"))
    argv = ["waterbirds", "--root", str(tmp_path / "data"), "--smoke", "--seed", "3"]
    argv += ["--memory", str(tmp_path / "cache")]
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    clf, scores = reproduce["main"](argv)
    assert torch.get_num_threads() == threads  # the smoke run's one thread is not left behind
    out = capsys.readouterr().out
    assert clf.random_state == 3 and clf.memory == str(tmp_path / "cache")
    assert "[JTT] stage 1/2" in out and "[JTT] stage 2/2" in out  # the stages
    assert out.count("valid_worst_group") >= 1 and "train_loss" in out  # skorch's epoch lines
    assert "adjusted average" in out and 0.0 <= scores["test_adjusted_average"] <= 1.0
    reproduce["main"]([*argv, "--quiet"])
    assert "[JTT]" not in capsys.readouterr().out
