"""The fair race: a search space per contestant, a seeded sampler, the winner chosen on validation
accuracy alone, and the time each winner takes to reach a target.

Trials are drawn before anything runs (seeded random search), so the workflow's job graph is
known up front. Trial 0 is always the contestant's declared setting, so a search can only match
or beat the hand-picked one on validation.
"""
from __future__ import annotations

import json
import math
import zlib
from pathlib import Path

import numpy as np

from edbench.methods.base import ConfigError

SPACE_KINDS = ("log", "uniform", "choice")


def check_space(where: str, space: dict) -> None:
    """Raise ConfigError naming the key if ``space`` is not a mapping of parameter -> one kind."""
    if not isinstance(space, dict):
        raise ConfigError(f"config key '{where}': a search space is a mapping of parameter to range")
    for key, spec in space.items():
        if not (isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in SPACE_KINDS):
            raise ConfigError(f"config key '{where}.{key}': give exactly one of {list(SPACE_KINDS)}, got {spec!r}")
        kind, values = next(iter(spec.items()))
        if not (isinstance(values, list) and values):
            raise ConfigError(f"config key '{where}.{key}.{kind}': needs a non-empty list, got {values!r}")
        if kind in ("log", "uniform"):
            if len(values) != 2 or not all(isinstance(v, (int, float)) for v in values) or values[0] > values[1]:
                raise ConfigError(f"config key '{where}.{key}.{kind}': needs [low, high] with low <= high, "
                                  f"got {values!r}")
            if kind == "log" and values[0] <= 0:
                raise ConfigError(f"config key '{where}.{key}.log': the range must be positive, got {values!r}")


def _round(value: float) -> float:
    """Three significant digits: readable in tables, and exact through JSON."""
    return float(f"{value:.3g}")


def sample(space: dict, trials: int, seed: int, contestant: str, task: str) -> list[dict]:
    """``trials`` settings: ``{}`` (the declared setting) first, then seeded random draws.

    The stream depends on (seed, contestant, task) only, so adding a contestant or a task leaves
    every other search unchanged.
    """
    rng = np.random.default_rng([seed, zlib.crc32(contestant.encode()), zlib.crc32(task.encode())])
    draws = [{}]
    for _ in range(trials - 1):
        draw = {}
        for key in sorted(space):
            kind, values = next(iter(space[key].items()))
            if kind == "choice":
                draw[key] = values[int(rng.integers(len(values)))]
            elif kind == "log":
                draw[key] = _round(math.exp(rng.uniform(math.log(values[0]), math.log(values[1]))))
            else:
                draw[key] = _round(rng.uniform(values[0], values[1]))
        draws.append(draw)
    return draws


def choose(records: list[dict]) -> tuple[int, str]:
    """Index of the winning trial and why: the highest validation accuracy among eligible trials
    that converged, ties to the earlier trial. Nothing but ``validation_accuracy`` and
    ``eligible`` is read: a test score in a record cannot change the choice."""
    best, best_score = None, -math.inf
    for index, record in enumerate(records):
        score = record.get("validation_accuracy")
        if not record.get("eligible", True) or score is None or not math.isfinite(score):
            continue
        if score > best_score:
            best, best_score = index, score
    if best is None:
        return 0, "no eligible trial converged: the declared setting (trial 0) is rerun"
    return best, "highest validation accuracy"


def trial_records(paths: list[str | Path], method_cls) -> list[dict]:
    """What the choice may see of each trial: its settings, validation accuracy, and whether
    ``method_cls`` can run its settings (a shared search offers trials another method ran)."""
    records = []
    for path in paths:
        run = json.loads(Path(path).read_text())
        params = run["config"]["params"]
        try:
            method_cls.check_params(params)
            eligible = True
        except ConfigError:
            eligible = False
        # nothing measured: a winner's record, like its metrics, is the same on every rerun
        records.append({"entry": run["key"]["entry"], "trial": run["key"].get("trial"), "params": params,
                        "status": run["status"], "validation_accuracy": run["metrics"]["validation_accuracy"],
                        "trained_by": run["key"]["method"], "eligible": eligible})
    return records


def time_to_target(curve: list[dict], cumulative_seconds: list[float], targets: list[float]) -> list[dict]:
    """Per target: the first epoch whose validation accuracy reaches it, with the training seconds
    (``cumulative_seconds[epoch - 1]``) and samples by then; None where it is never reached."""
    rows = []
    for target in targets:
        hit = next((p for p in curve if p.get("validation_accuracy") is not None
                    and p["validation_accuracy"] >= target), None)
        rows.append({"target": target, "epoch": hit and hit["epoch"],
                     "seconds": hit and cumulative_seconds[hit["epoch"] - 1], "samples": hit and hit["samples"]})
    return rows
