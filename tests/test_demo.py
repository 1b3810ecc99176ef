"""The README's first command: the demo runs, prints the per-group table, and JTT helps."""

from jtt_sklearn.__main__ import main
from jtt_sklearn._demo import run_demo


def test_demo_prints_a_per_group_table_and_jtt_beats_erm_on_the_worst_group():
    lines = []
    results = run_demo(max_epochs=15, random_state=0, out=lines.append)
    table = lines[-1]
    for name in ("y=0 (digit<5), red", "y=1 (digit>=5), green", "worst group", "average", "ERM", "JTT"):
        assert name in table
    assert any("Chosen by validation worst-group accuracy" in line for line in lines)
    assert results["JTT"]["worst"] > results["ERM"]["worst"] + 0.1
    assert set(results["best_params"]) == {"T", "lambda_up"}


def test_command_line_entry_point(capsys):
    assert main(["demo", "--epochs", "3"]) == 0
    assert "worst group" in capsys.readouterr().out
