"""Read and write the IDX format of MNIST and Fashion-MNIST, checking magic numbers and shapes."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

UBYTE = 0x08


class IdxFormatError(ValueError):
    """An IDX file whose header or size is not what it claims or what we expect."""


def _open(path: Path):
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_idx(path: str | Path, ndim: int | None = None, item_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Load an unsigned-byte IDX array; ``ndim``/``item_shape`` are checked when given."""
    path = Path(path)
    try:
        with _open(path) as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        raise IdxFormatError(f"{path}: cannot be read as IDX ({error})") from error
    if len(data) < 4:
        raise IdxFormatError(f"{path}: {len(data)} bytes is too short for an IDX header")
    zero, dtype_code, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != UBYTE or dims == 0:
        raise IdxFormatError(f"{path}: bad IDX magic number 0x{data[:4].hex()} "
                             f"(expected 0x0000080N for unsigned bytes)")
    if ndim is not None and dims != ndim:
        raise IdxFormatError(f"{path}: IDX has {dims} dimensions, expected {ndim}")
    header = 4 + 4 * dims
    if len(data) < header:
        raise IdxFormatError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{dims}I", data[4:header])
    if item_shape is not None and tuple(shape[1:]) != tuple(item_shape):
        raise IdxFormatError(f"{path}: IDX items have shape {shape[1:]}, expected {item_shape}")
    expected = int(np.prod(shape))
    if len(data) - header != expected:
        raise IdxFormatError(f"{path}: IDX payload has {len(data) - header} bytes, header says {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx_gz(path: str | Path, array: np.ndarray) -> Path:
    path = Path(path)
    path.write_bytes(gzip.compress(encode_idx(array), mtime=0))
    return path
