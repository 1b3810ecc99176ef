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


def test_speed_benchmark_smoke(tmp_path):
    speed = _load("speed")
    results_md = tmp_path / "results.md"
    results = speed.main(["--quick", "--results", str(results_md)])
    assert set(results["memory"]) == {"skorch", "sklearn"}
    assert all(row["ratio"] > 0 for row in results["memory"].values())
    assert results["grid"]["same_best_params"]
    assert "<!-- speed:start -->" in results_md.read_text()


def test_gpu_benchmark_logic_on_cpu():
    gpu = _load("gpu")
    results = gpu.main(["--device", "cpu", "--n", "12", "--size", "32", "--model", "resnet18",
                        "--batch", "6", "--final-epochs", "1", "--lambda-up", "2", "--precision", "fp32"])
    for side in ("raw", "jtt"):
        assert results[side]["stage1_img_s"] > 0 and results[side]["stage2_img_s"] > 0
