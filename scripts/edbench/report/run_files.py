"""The files a run of the workflow reuses, read back and checked: run files (the tables read them)
and cached data (the training jobs read it). One that cannot be read is named by path, with the
command that makes it again; the workflow checks every one before it plans a job. Training jobs
never import this module: they check their own data as they load it."""
from __future__ import annotations

import json
from pathlib import Path

from edbench.data import arrays

# What every run file holds; a file without them was cut short or is not a run file.
RUN_KEYS = ("schema", "key", "status", "metrics", "timing", "provenance")


class DamagedRunFile(ValueError):
    """A run file that cannot be read back as a run."""


def retrain_hint(path: Path | str) -> str:
    return f"it is not read. To train it again, delete it and rerun snakemake: rm {path} && snakemake ..."


def read_run(path: Path | str) -> dict:
    """The run recorded in ``path``; raises DamagedRunFile naming the path and what is wrong."""
    try:
        run = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError) as error:
        raise DamagedRunFile(f"{path} cannot be read ({error}); {retrain_hint(path)}") from None
    except json.JSONDecodeError as error:
        raise DamagedRunFile(f"{path} is damaged: not valid JSON ({error}); {retrain_hint(path)}") from None
    missing = [key for key in RUN_KEYS if not isinstance(run, dict) or key not in run]
    if missing:
        raise DamagedRunFile(f"{path} is damaged: it lacks {', '.join(missing)}; {retrain_hint(path)}")
    return run


def damaged(paths) -> list[str]:
    """A message for each existing file of ``paths`` that cannot be read back as a run."""
    messages = []
    for path in sorted(map(str, paths)):
        if Path(path).exists():
            try:
                read_run(path)
            except DamagedRunFile as error:
                messages.append(str(error))
    return messages


def damaged_caches(npz_paths) -> list[str]:
    """A message for each existing arrays file of ``npz_paths`` whose SHA-256 is not the one its
    provenance record (the ``.json`` beside it) holds; a file without a record is the fetch job's
    to make again, and is left to it."""
    messages = []
    for path in map(Path, sorted(set(map(str, npz_paths)))):
        record = path.with_suffix(".json")
        if not (path.exists() and record.exists()):
            continue
        try:
            expected = json.loads(record.read_text())["file_sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            messages.append(f"{record} is damaged: it does not record {path.name}'s SHA-256. To rebuild both, "
                            f"delete them and rerun snakemake: rm {path} {record} && snakemake ...")
            continue
        try:
            arrays.check_file(path, expected)
        except arrays.DamagedCache as error:
            messages.append(str(error))
    return messages
