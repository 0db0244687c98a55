import functools
import hashlib
import http.server
import threading
from pathlib import Path

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
        files=tuple(datasets.FileSpec(name, hashlib.md5(path.read_bytes()).hexdigest()) for name, path in files.items()),
        mirrors=tuple(mirrors),
    )


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
