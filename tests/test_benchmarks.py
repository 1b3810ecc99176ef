"""The benchmark scripts run end to end (tiny settings) and write their report."""

import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quality_benchmark_smoke(tmp_path):
    quality = _load("quality")
    results_md = tmp_path / "results.md"
    results_md.write_text("# Results\n\nkept text\n")
    results = quality.main(["--datasets", "colored_digits", "--seeds", "2", "--quick", "--results", str(results_md)])
    assert len(results["colored_digits"]) == 2
    text = results_md.read_text()
    assert "kept text" in text and "| colored_digits |" in text and "gap closed" in text
    assert (tmp_path / "img" / "quality_worst_group.png").exists()
    # Rewriting replaces the section instead of appending a second one.
    quality.main(["--datasets", "colored_digits", "--seeds", "1", "--quick", "--results", str(results_md)])
    assert results_md.read_text().count("<!-- quality:start -->") == 1
