"""Whether a file's content is the published one.

A file is accepted when one of the published checksums matches: the MD5 of the gzip file, the
MD5 of the decompressed IDX bytes, or the SHA-256 of those bytes. Checking content rather than
the gzip stream accepts any honest repackaging (Debian's Fashion-MNIST, IDX files rebuilt from
the packaged pickle) and still refuses any changed byte.
"""
from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

from edbench.data.catalog import FileSpec

GZIP_MAGIC = b"\x1f\x8b"


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
