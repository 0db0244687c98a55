"""The raw-file cache: a file enters it only when its content passes a published checksum, and
ORIGIN.json beside the files names the source that served each one."""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from edbench import atomic
from edbench.data.catalog import FileSpec
from edbench.data.checksums import verify

log = logging.getLogger("edbench.data")

ORIGIN_FILE = "ORIGIN.json"


def _origins(cache_dir: Path) -> dict:
    try:
        return json.loads((cache_dir / ORIGIN_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _remember_origin(cache_dir: Path, filename: str, source: str) -> None:
    origins = _origins(cache_dir)
    origins[filename] = source
    atomic.write_json(cache_dir / ORIGIN_FILE, origins)


def cached_file(spec: FileSpec, cache_dir: Path) -> tuple[Path, str, str] | None:
    """The cached copy of ``spec``, its source and the check it passed; a copy that fails is deleted."""
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


def store_checked(cache_dir: Path, filename: str, write, spec: FileSpec, source: str) -> tuple[Path, str, str]:
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

