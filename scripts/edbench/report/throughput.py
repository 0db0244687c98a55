"""The throughput check: the training runs' rates against the speed table's for the same work."""
from __future__ import annotations

import pandas as pd

# Speed rows whose side runs the same network, data and batch size as a reference entry does.
SAME_WORK = [
    ("ed_matrix_vs_ed_neuron", "candidate", "mnist01", "ed_matrix"),
    ("ed_matrix_vs_ed_neuron", "baseline", "mnist01", "ed_neuron"),
    ("ed_deep_vs_layer_by_layer", "candidate", "mnist01", "ed_deep"),
    ("bp_adam_vs_torch_best_b32_1t", "candidate", "mnist10", "bp_adam"),
    ("bp_sgd_vs_torch_best_b32_1t", "candidate", "mnist10", "bp_sgd"),
    ("bp_adam_vs_torch_best_b32_1t", "baseline", "mnist10", "torch"),
]


def throughput_check(summary_frame: pd.DataFrame, speed: pd.DataFrame | None, limit: float = 0.3) -> pd.DataFrame:
    """The training runs' median samples/s against the speed table's rate for the same work: the
    two come from separate processes and must agree within ``limit`` (relative)."""
    rows = []
    for comparison, side, task, method in SAME_WORK:
        runs = summary_frame[(summary_frame["task"] == task) & (summary_frame["method"] == method)
                             & (summary_frame["status"] == "ok")]
        timed = None if speed is None else speed[speed["comparison"] == comparison]
        if runs.empty or timed is None or timed.empty:
            continue
        ours = float(runs["samples_per_second"].median())
        theirs = float(timed[f"{side}_per_s"].iloc[0])
        difference = ours / theirs - 1
        rows.append({"task": task, "method": method, "runs_samples_per_second": ours, "speed_row": comparison,
                     "speed_side": side, "speed_samples_per_second": theirs, "relative_difference": difference,
                     "within_limit": bool(abs(difference) <= limit), "limit": limit})
    return pd.DataFrame(rows, columns=["task", "method", "runs_samples_per_second", "speed_row", "speed_side",
                                       "speed_samples_per_second", "relative_difference", "within_limit", "limit"])
