"""Runs trained in one batch process give the same results as one process per run."""
import json
import subprocess
import sys

import pytest

from conftest import REPO
from edbench.spec import Budget, RunSpec

pytestmark = pytest.mark.slow
METHODS = ["bp_sgd", "fd", "ed_matrix", "ed_deep", "torch"]


def gates_spec(method, seed):
    params = {"hidden": [4], "activation": "sigmoid", "batch_size": 4, "lr": 0.05 if method == "torch" else 2.0}
    if method.startswith("ed_"):
        params = {"depth": 2, "width": 4, "batch_size": 1} if method == "ed_deep" else {"hidden": [8]}
    return RunSpec(dataset="truth_tables", task="gates", entry=method, method=method, params=params,
                   budget=Budget(epochs=30), seed=seed, threads=1)


def train(runs, tmp_path):
    """scripts/train.py with one --spec/--out/--log triple per run, in one process."""
    args = []
    for spec, out in runs:
        args += ["--spec", spec.to_json(), "--out", str(out), "--log", str(tmp_path / f"{out.stem}.log")]
    done = subprocess.run([sys.executable, "scripts/train.py", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def without_timing(path):
    """The record less what describes the process rather than the run: its timing, and the thread
    pools and BLAS libraries it reports, which include those an earlier run of the batch loaded
    (torch's, scikit-learn's SciPy)."""
    record = json.loads(path.read_text())
    record.pop("timing")
    record["provenance"].pop("threads_in_effect")
    record["provenance"]["blas"].pop("libraries")
    return record


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """Each run in its own process, as with runs_per_job 1."""
    directory = tmp_path_factory.mktemp("alone")
    results = {}
    for method in METHODS:
        out = directory / f"{method}.json"
        train([(gates_spec(method, seed=3), out)], directory)
        results[method] = without_timing(out)
    return results


@pytest.mark.parametrize("order", [METHODS, METHODS[::-1]], ids=["forward", "reversed"])
def test_a_batch_gives_the_results_of_separate_processes(alone, order, tmp_path):
    train([(gates_spec(method, seed=3), tmp_path / f"{method}.json") for method in order], tmp_path)
    for method in order:
        assert without_timing(tmp_path / f"{method}.json") == alone[method], method
        log = (tmp_path / f"{method}.log").read_text()
        assert f"gates/XOR/{method}/seed3: epoch 30/30" in log
        others = [m for m in METHODS if m != method]
        assert not any(f"/{other}/seed3:" in log for other in others), "a run's log holds only that run"


def test_later_runs_of_a_batch_skip_the_process_start_up(tmp_path):
    runs = [(gates_spec("bp_sgd", seed), tmp_path / f"s{seed}.json") for seed in range(3)]
    train(runs, tmp_path)
    startup = [json.loads(out.read_text())["timing"]["startup_seconds"] for _, out in runs]
    assert startup[1] < startup[0] and startup[2] < startup[0]


def test_mismatched_arguments_are_refused(tmp_path):
    done = subprocess.run([sys.executable, "scripts/train.py", "--spec", gates_spec("bp_sgd", 0).to_json(),
                           "--spec", gates_spec("bp_sgd", 1).to_json(), "--out", str(tmp_path / "a.json")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "one --out" in done.stderr
