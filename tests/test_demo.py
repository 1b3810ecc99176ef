"""The README's first command: the demo runs, prints the per-group table and writes the chart."""

from jtt_sklearn.__main__ import main
from jtt_sklearn._demo import run_demo


def test_demo_prints_a_per_group_table_and_jtt_beats_erm_on_the_worst_group(tmp_path):
    lines = []
    plot = tmp_path / "groups.png"
    results = run_demo(max_epochs=15, random_state=0, plot_path=str(plot), verbose=False, out=lines.append)
    table = lines[-2]
    for name in ("y=0 (digit<5), red", "y=1 (digit>=5), green", "worst group", "average", "ERM", "JTT", "Group DRO"):
        assert name in table
    assert any("[JTT] chose" in line for line in lines)
    assert results["JTT"]["worst"] > results["ERM"]["worst"] + 0.1
    assert set(results["best_params"]["JTT"]) == {"T", "lambda_up"}
    assert set(results["best_params"]["Group DRO"]) == {"eta"}
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_entry_point(capsys, tmp_path):
    assert main(["demo", "--epochs", "2", "--quiet", "--plot", str(tmp_path / "p.png")]) == 0
    output = capsys.readouterr().out
    assert "worst group" in output and "Group DRO" in output
    assert (tmp_path / "p.png").exists()
