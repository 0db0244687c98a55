"""The deep-ED study's table: per setting (depth, width, batch size, u0), at one compute budget (the
weights of all its networks times the training samples they see), the epochs that budget bought
(at least one, so a network too large for the budget spends more), the test accuracy, and whether
the input still reaches the output."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

STUDY_PREFIX = "deep_study."
DEEP_STUDY_COLUMNS = ["dataset", "task", "depth", "width", "batch_size", "u0", "epochs", "weights",
                      "weight_passes_budget", "weight_passes_spent", "seeds", "test_accuracy_mean",
                      "test_accuracy_min", "test_accuracy_max",
                      "output_spread_start", "output_spread_end", "constant_networks_start",
                      "constant_networks_end", "train_seconds_median", "entry"]


def _median(values) -> float:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else math.nan


def deep_study(runs: list[dict]) -> pd.DataFrame:
    """One row per studied setting (its seeds pooled). ``output_spread`` is the median over the
    networks of the standard deviation of each network's output over the first 1,000 test images:
    0 means the output no longer depends on the input; ``constant_networks`` is the fraction of
    networks whose spread is below 1e-6. ``_start`` is before training, ``_end`` after."""
    groups = {}
    for run in runs:
        if run["key"]["entry"].startswith(STUDY_PREFIX):
            groups.setdefault((run["data"]["name"], run["key"]["task"], run["key"]["entry"]), []).append(run)
    rows = []
    for (dataset, task, entry), group in sorted(groups.items()):
        first, ok = group[0], [r for r in group if r["status"] == "ok"]
        params = first["config"]["params"]
        accuracy = [r["metrics"]["test_accuracy"] for r in ok]
        diagnostics = [r["metrics"].get("diagnostics") or {} for r in group]
        config, epochs = first["config"], first["config"]["task_params"]["epochs"]
        rows.append({
            "dataset": dataset, "task": task, "depth": params["depth"], "width": params["width"],
            "batch_size": params["batch_size"], "u0": params["u0"], "epochs": epochs,
            "weights": config.get("weights"), "weight_passes_budget": config.get("weight_passes"),
            "weight_passes_spent": epochs * first["data"]["task_train_count"] * config.get("weights", math.nan),
            "seeds": len(group), "test_accuracy_mean": float(np.mean(accuracy)) if accuracy else math.nan,
            "test_accuracy_min": min(accuracy, default=math.nan), "test_accuracy_max": max(accuracy, default=math.nan),
            **{f"{name}_{when}": _median([(d.get(when) or {}).get(name) for d in diagnostics])
               for name in ("output_spread", "constant_networks") for when in ("start", "end")},
            "train_seconds_median": _median([r["timing"]["train_seconds"] for r in ok]), "entry": entry})
    frame = pd.DataFrame(rows, columns=DEEP_STUDY_COLUMNS)
    return frame.sort_values(["task", "depth", "width", "batch_size", "u0"]).reset_index(drop=True)
