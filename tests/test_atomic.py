"""Atomic writes: a failed or killed write leaves the old file (or none), never half of one."""
import json
import os
import stat

import pytest

from edbench import atomic


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "r.json"
    atomic.write_json(target, {"a": 1})

    def explode(tmp):
        tmp.write_text('{"a": 2, "b": [1, 2')   # half written
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic.write_atomic(target, explode)
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_stale_temporary_files_of_a_killed_writer_are_removed(tmp_path):
    target = tmp_path / "r.json"
    stale = tmp_path / ".r.json.abc123.tmp"
    stale.write_text("{half")
    atomic.write_json(target, {"ok": True})
    assert not stale.exists() and json.loads(target.read_text()) == {"ok": True}


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_get_the_mode_the_umask_gives(tmp_path, umask, mode):
    import pandas as pd

    old = os.umask(umask)
    try:
        written = [atomic.write_json(tmp_path / "r.json", {"a": 1}), atomic.write_text(tmp_path / "t.md", "x"),
                   atomic.write_csv(tmp_path / "s.csv", pd.DataFrame({"a": [1]})),
                   atomic.write_atomic(tmp_path / "f.png", lambda tmp: tmp.write_bytes(b"png"))]
        plain = tmp_path / "plain"
        plain.write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(plain.stat().st_mode) == mode
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path.name
