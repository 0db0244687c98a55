"""The race's choices: which trials a contestant may take, their ranking on validation accuracy with
a stated tie margin, and the time each winner takes to reach a target.

Nothing but a candidate's validation accuracy, its eligibility and its size (the weights its
setting trains) is read, so a test score in a record can never change a choice. Two candidates
whose validation accuracies lie within the tie margin of each other count as equal, and the one
with fewer weights wins (then the earlier trial): a choice that a last-digit difference between two
machines' arithmetic cannot flip.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from edbench.methods.base import ConfigError


def trial_records(paths: list[str | Path], method_cls, max_hidden_cells: int | None = None,
                  size_of=None) -> list[dict]:
    """What a choice may see of each trial: its settings, validation accuracy, size, and whether
    ``method_cls`` may take it: it can run the settings (a shared search offers trials another method
    ran) and, where ``max_hidden_cells`` is set, they have no more hidden cells than that.
    ``size_of(params)`` gives a setting's weights (None: not recorded)."""
    records = []
    for path in paths:
        run = json.loads(Path(path).read_text())
        params = run["config"]["params"]
        try:
            method_cls.check_params(params)
            eligible = max_hidden_cells is None or method_cls.hidden_cells(params) <= max_hidden_cells
        except ConfigError:
            eligible = False
        # nothing measured: a winner's record, like its metrics, is the same on every rerun
        records.append({"entry": run["key"]["entry"], "trial": run["key"].get("trial"), "params": params,
                        "status": run["status"], "validation_accuracy": run["metrics"]["validation_accuracy"],
                        "trained_by": run["key"]["method"], "eligible": eligible,
                        "size": None if size_of is None else size_of(params),
                        "promoted_from": (run.get("race") or {}).get("chosen_trial")
                        if run["key"].get("role") == "promoted" else None})
    return records


def _candidates(records: list[dict]) -> list[int]:
    return [index for index, record in enumerate(records)
            if record.get("eligible", True) and record.get("validation_accuracy") is not None
            and math.isfinite(record["validation_accuracy"])]


def ranking(records: list[dict], tie_margin: float = 0.0) -> list[int]:
    """The eligible, converged candidates, best first. The best is the smallest among those within
    ``tie_margin`` of the highest validation accuracy (then the earliest); the rest are ranked the
    same way among themselves."""
    left, ranked = _candidates(records), []
    while left:
        best = max(records[index]["validation_accuracy"] for index in left)
        tied = [index for index in left if records[index]["validation_accuracy"] >= best - tie_margin - 1e-12]
        size = {index: records[index].get("size") for index in tied}
        first = min(tied, key=lambda index: (math.inf if size[index] is None else size[index], index))
        ranked.append(first)
        left.remove(first)
    return ranked


def choose(records: list[dict], tie_margin: float = 0.0, rank: int = 0) -> tuple[int | None, str]:
    """The candidate at ``rank`` (0: the winner) and why; None where fewer candidates are eligible."""
    ranked = ranking(records, tie_margin)
    if rank < len(ranked):
        why = "highest validation accuracy" if rank == 0 else f"validation accuracy ranked {rank + 1}"
        tie = " (ties within the margin go to the smaller setting)" if tie_margin else ""
        return ranked[rank], why + tie
    return None, f"only {len(ranked)} eligible trial(s) converged: nothing at rank {rank + 1}"


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
