"""Search spaces: their shape, the seeded draws of a contestant's trials, and where a chosen value
sits in its space (the edge flags that say whether a space binds).

Trials are drawn before anything runs (seeded random search), so the workflow's job graph is
known up front. Trial 0 is always the contestant's declared setting, so a search can only match
or beat the hand-picked one on validation.
"""
from __future__ import annotations

import math
import zlib

import numpy as np

from edbench.methods.base import ConfigError

SPACE_KINDS = ("log", "uniform", "choice")
# A chosen value in the outer tenth of a range (in log space for a log range) sits at its edge.
EDGE_FRACTION = 0.1


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


def every_choice(space: dict) -> list[dict]:
    """One setting per value of each ``choice`` dimension (the others left out): what a plan-time
    check must try, since a random draw may not reach every value."""
    return [{key: value} for key, spec in sorted(space.items()) if "choice" in spec for value in spec["choice"]]


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


def size(value) -> float | None:
    """A choice's place in its order: a number itself, a list of layer widths its total cells; None
    for a value with no order (a rule's name, a flag)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, int) and not isinstance(v, bool)
                                                          for v in value):
        return float(sum(value))
    return None


def edge(spec: dict, value) -> dict:
    """Where ``value`` sits in one dimension's space: its position from 0 (low end) to 1 (high end)
    and whether that is at an edge ("low", "high", or "" inside). A range's edge is its outer tenth
    (in log space for a log range); an ordered choice's edge is its first or last value; a choice
    without an order has no edge ("unordered"). A value outside the space is reported as such."""
    kind, values = next(iter(spec.items()))
    if kind == "choice":
        sizes = [size(v) for v in values]
        if size(value) is None or None in sizes or len(set(sizes)) < 2:
            return {"kind": "choice", "position": math.nan, "at_edge": "unordered"}
        ordered = sorted(set(sizes))
        where = ordered.index(size(value)) if size(value) in ordered else None
        if where is None:
            return {"kind": "choice", "position": math.nan, "at_edge": "outside"}
        position = where / (len(ordered) - 1)
        return {"kind": "choice", "position": position,
                "at_edge": "low" if where == 0 else "high" if where == len(ordered) - 1 else ""}
    low, high = values
    if kind == "log":
        low, high, value = math.log(low), math.log(high), math.log(value) if value > 0 else -math.inf
    if high == low:
        return {"kind": kind, "position": math.nan, "at_edge": "fixed"}
    position = (value - low) / (high - low)
    if position < -1e-9 or position > 1 + 1e-9:
        return {"kind": kind, "position": position, "at_edge": "outside"}
    return {"kind": kind, "position": position,
            "at_edge": "low" if position <= EDGE_FRACTION else "high" if position >= 1 - EDGE_FRACTION else ""}
