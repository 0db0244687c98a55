"""Atomic writes: a failed or killed write leaves the old file (or none), never half of one."""
import json

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
