"""The arrays file a task loads: an uncompressed .npz whose SHA-256 is recorded in the provenance;
``load`` checks it and then memory-maps the arrays, so a training job reads no more than it uses,
and refuses a damaged file with the way to rebuild it."""
from __future__ import annotations

import hashlib
import logging
import struct
import time
import zipfile
from pathlib import Path

import numpy as np

from edbench import atomic
from edbench.data.catalog import IMAGE_SHAPE, DataUnavailable
from edbench.data.checksums import file_digest
from edbench.data.idx import IdxFormatError, read_idx

log = logging.getLogger("edbench.data")


class DamagedCache(DataUnavailable):
    """A cached arrays file whose bytes are not the ones recorded when it was written."""


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


def save(out_npz: Path, arrays: dict[str, np.ndarray]) -> dict:
    """Write ``arrays`` as an uncompressed .npz; return the record ``load`` checks it against."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    atomic.write_atomic(out_npz, write)
    return {"file": Path(out_npz).name, "file_sha256": file_digest(Path(out_npz), "sha256")}


def rebuild_hint(path: Path) -> str:
    return f"delete it and rerun snakemake, which rebuilds it from the verified sources: rm {path} && snakemake ..."


# Files this process has checked, by path: the file's identity and times then, and the SHA-256 it
# had. A batch's runs read one file; hashing MNIST's 55 MB took 0.03-0.08 s a run, most of a
# later run's start.
_checked: dict[str, tuple[tuple, str]] = {}
# A file's times tick coarsely (a few ms): one changed within a tick of its check could keep them,
# so only a file unchanged for this long before its check is remembered.
SETTLED_SECONDS = 1.0


def check_file(path: Path, expected_sha256: str) -> None:
    """Raise DamagedCache unless ``path`` has the SHA-256 recorded when it was written. A file this
    process checked already is hashed again only if it changed since (its inode, size or times)."""
    key = str(Path(path).resolve())
    try:
        began = time.time_ns()
        stat = Path(path).stat()
        identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        if _checked.get(key) == (identity, expected_sha256):
            return
        actual = file_digest(path, "sha256")
    except OSError as error:
        raise DamagedCache(f"{path} cannot be read ({error}); {rebuild_hint(path)}") from None
    if actual != expected_sha256:
        raise DamagedCache(f"{path} is damaged: its SHA-256 is {actual}, not the {expected_sha256} recorded when it "
                           f"was written; it is not trained on. To rebuild it, {rebuild_hint(path)}")
    if began - max(stat.st_mtime_ns, stat.st_ctime_ns) > SETTLED_SECONDS * 1e9:
        _checked[key] = (identity, actual)


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
