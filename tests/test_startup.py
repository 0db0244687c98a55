"""The fixed cost of a training job: what it imports, its thread limits, and `startup_seconds`."""
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO
from edbench.spec import Budget, RunSpec

HEAVY = ("torch", "pandas", "scipy", "sklearn", "matplotlib", "seaborn", "numba")


def gates_spec(method, threads=1):
    params = {"hidden": [4], "activation": "sigmoid", "batch_size": 4, "lr": 0.05 if method == "torch" else 2.0}
    if method.startswith("ed_"):
        params = {"hidden": [8]}
    return RunSpec(dataset="truth_tables", task="gates", entry=method, method=method, params=params,
                   budget=Budget(epochs=20), seed=0, threads=threads)


def run_train_script(spec, out, report, env=None):
    """Run scripts/train.py as the workflow does, in a fresh interpreter, then print ``report``'s value."""
    code = (
        "import runpy, sys, json\n"
        "sys.path.insert(0, 'scripts')   # as 'python scripts/train.py' does\n"
        f"sys.argv = ['scripts/train.py', '--spec', {json.dumps(spec.to_json())}, '--out', {str(out)!r}]\n"
        "runpy.run_path('scripts/train.py', run_name='__main__')\n"
        f"print(json.dumps({report}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("given, advised", [(None, False), ("1", True)])
def test_numpy_gets_no_hugepage_advice_unless_the_user_asks(given, advised, tmp_path):
    """The package turns NumPy's 2 MB page advice off before NumPy loads (``edbench/__init__.py``), and
    a job records what it ran with; a value the user set stays."""
    env = {name: value for name, value in os.environ.items() if name != "NUMPY_MADVISE_HUGEPAGE"}
    if given is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = given
    in_effect = run_train_script(gates_spec("bp_sgd"), tmp_path / "r.json",
                                 "__import__('numpy')._core.multiarray._get_madvise_hugepage()", env=env)
    recorded = json.loads((tmp_path / "r.json").read_text())["provenance"]["numpy_hugepage_advice"]
    assert in_effect == recorded == advised


@pytest.mark.parametrize("method", ["bp_sgd", "bp_adam", "ed_neuron"])
def test_a_numpy_job_imports_no_heavy_package(method, tmp_path):
    loaded = run_train_script(gates_spec(method), tmp_path / "r.json",
                              f"sorted(set(m.split('.')[0] for m in sys.modules) & {set(HEAVY)!r})")
    assert loaded == []
    timing = json.loads((tmp_path / "r.json").read_text())["timing"]
    assert 0 < timing["startup_seconds"] < 30


def test_a_compiled_job_imports_numba_but_not_torch(tmp_path):
    loaded = run_train_script(gates_spec("ed_matrix"), tmp_path / "r.json",
                              "sorted(m for m in ('torch', 'numba') if m in sys.modules)")
    assert loaded == ["numba"]


@pytest.mark.slow
def test_a_torch_job_pins_torch_to_its_threads(tmp_path):
    # torch is imported by the torch method itself, which then applies the job's limit
    threads = run_train_script(gates_spec("torch", threads=1), tmp_path / "r.json",
                               "sys.modules['torch'].get_num_threads()")
    assert threads == 1
    timing = json.loads((tmp_path / "r.json").read_text())["timing"]
    assert timing["startup_seconds"] > 0


def test_startup_counts_from_the_process_start(tmp_path):
    """A later run in the same process counts from its own start, so it is cheaper than the first."""
    code = (
        "import sys, json\n"
        "sys.path.insert(0, 'scripts')\n"
        "from edbench import runner\n"
        "from edbench.spec import RunSpec\n"
        f"spec = RunSpec.from_json({gates_spec('bp_sgd').to_json()!r})\n"
        "first = runner.run(spec)['timing']['startup_seconds']\n"
        "from edbench import runner as again\n"
        "second = again.run(spec)['timing']['startup_seconds']\n"
        "from edbench import provenance\n"
        "print(json.dumps([first, second, provenance.process_age_seconds()]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second, age = json.loads(done.stdout.strip().splitlines()[-1])
    # the first run includes the interpreter and numpy imports (tens of ms at least)
    assert 0.01 < first < age and 0 <= second < first


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/smoke.yaml"])
def test_planning_a_workflow_imports_no_compiled_kernel(configfile):
    """Every `snakemake` start (and every cluster job's) validates and expands the config, importing
    each configured method's module: numba's import (0.2 s) belongs to the jobs that train."""
    code = (
        "import sys, yaml\n"
        "from edbench import config as edconfig\n"
        "from edbench import batching, provenance, scheduling, tasks\n"
        "from edbench.report import run_files\n"
        f"config = edconfig.validate(yaml.safe_load(open({configfile!r})))\n"
        "runs = edconfig.expand(config)\n"
        "print(len(runs), sorted(m for m in ('numba', 'torch') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    count, loaded = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert int(count) > 0 and loaded == "[]"
