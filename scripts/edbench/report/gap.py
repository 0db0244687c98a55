"""The gap between ED and backprop, per data set and budget: the best ED entry against the best
backprop entry, on test accuracy and on the time to each validation target, with a verdict.

"Best" is chosen on validation accuracy (the mean over seeds of each race winner), never on test.
A winner's 95% interval covers both what varies between seeds (a t-interval over them) and what a
finite test set leaves uncertain (the binomial standard error of the accuracy on ``test_count``
examples), added in quadrature. The interval of the difference adds the two winners' intervals in
quadrature too: the two are treated as independent, which is conservative, since both are scored
on the same test examples.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from edbench.report.race_tables import winner_groups

ED_METHODS = ("ed_neuron", "ed_matrix", "ed_deep")
BACKPROP_METHODS = ("bp_sgd", "bp_adam", "torch")
Z95 = 1.959963984540054

GAP_COLUMNS = ["dataset", "task", "budget", "ed", "ed_test_accuracy", "ed_low", "ed_high", "backprop",
               "backprop_test_accuracy", "backprop_low", "backprop_high", "difference", "difference_low",
               "difference_high", "target", "ed_seconds", "backprop_seconds", "ed_reached", "backprop_reached",
               "time_ratio", "verdict"]


def interval(accuracies: list[float], test_count: int) -> tuple[float, float]:
    """(mean, half-width) of a winner's test accuracy over seeds and test examples."""
    values = np.asarray(accuracies, dtype=float)
    mean = float(values.mean())
    seeds = 0.0 if len(values) < 2 else float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1)
                                                / math.sqrt(len(values)))
    examples = Z95 * math.sqrt(max(mean * (1 - mean), 0.0) / test_count) if test_count else math.inf
    return mean, math.hypot(seeds, examples)


def _best(winners: dict, family: tuple[str, ...]) -> dict | None:
    """The family's winner with the highest mean validation accuracy, with its test interval."""
    found = []
    for contestant, group in winners.items():
        ok = [r for r in group if r["status"] == "ok"]
        if group[0]["key"]["method"] in family and ok and group[0]["config"].get("capped") in ([], None):
            validation = float(np.mean([r["metrics"]["validation_accuracy"] for r in ok]))
            mean, half = interval([r["metrics"]["test_accuracy"] for r in ok], ok[0]["data"]["task_test_count"])
            found.append({"contestant": contestant, "validation": validation, "mean": mean, "half": half, "runs": ok})
    return max(found, key=lambda f: (f["validation"], -f["mean"]), default=None)


def _seconds_to(runs: list[dict], target: float) -> tuple[float, int]:
    """Median training seconds to first reach ``target`` on validation over the seeds that did, and how many did."""
    from edbench.race.choice import time_to_target

    hits = [time_to_target(r["metrics"]["curve"], r["timing"]["cumulative_seconds"], [target])[0]["seconds"]
            for r in runs]
    reached = [s for s in hits if s is not None]
    return (float(np.median(reached)) if reached else math.nan), len(reached)


def verdict(ed: dict, backprop: dict, difference: float, half: float, times: list[dict]) -> str:
    """One sentence: where ED stands against backprop on accuracy, and on time to the highest target
    both reach (or the first that backprop reaches and ED never does)."""
    points = 100 * difference
    low, high = points - 100 * half, points + 100 * half
    who = f"ED (`{ed['contestant']}`) against backprop (`{backprop['contestant']}`)"
    if high < 0:
        accuracy = f"{who}: {-points:.2f} points behind (95% interval {-high:.2f} to {-low:.2f})"
    elif low > 0:
        accuracy = f"{who}: {points:.2f} points ahead (95% interval {low:.2f} to {high:.2f})"
    else:
        accuracy = f"{who}: level within the interval ({points:+.2f} points, {low:+.2f} to {high:+.2f})"
    missed = [t for t in times if t["ed_reached"] == 0 and t["backprop_reached"] > 0]
    both = [t for t in times if t["ed_reached"] > 0 and t["backprop_reached"] > 0]
    if missed:
        return f"{accuracy}; ED never reaches {missed[0]['target']:g} on validation, which backprop reaches."
    if both:
        last = both[-1]
        return f"{accuracy}; it reaches {last['target']:g} on validation {pace(last['time_ratio'])}."
    return accuracy + "."


def pace(time_ratio: float) -> str:
    """ED's time to a target against backprop's (``time_ratio``, ED's over backprop's) as a factor
    faster or slower, to hundredths below 1.1x: a ratio of 0.96 at one decimal read "1.0x faster"."""
    factor, direction = (1 / time_ratio, "faster") if time_ratio < 1 else (time_ratio, "slower")
    shown = f"{factor:.2f}" if factor < 1.1 else f"{factor:.1f}"
    return "in backprop's time" if shown == "1.00" else f"{shown}x {direction}"


def gap(runs: list[dict]) -> pd.DataFrame:
    """One row per (data set, task, budget, validation target): the best ED and backprop winners'
    test accuracy with intervals, their difference, and the median seconds each took to the target."""
    by_task = {}
    for (dataset, task, budget, contestant), group in winner_groups(runs).items():
        by_task.setdefault((dataset, task, budget), {})[contestant] = group
    rows = []
    for (dataset, task, budget), winners in sorted(by_task.items()):
        ed, backprop = _best(winners, ED_METHODS), _best(winners, BACKPROP_METHODS)
        if ed is None or backprop is None:
            continue
        difference, half = ed["mean"] - backprop["mean"], math.hypot(ed["half"], backprop["half"])
        times = []
        for target in ed["runs"][0]["race"]["targets"] or [None]:
            ed_s, ed_n = _seconds_to(ed["runs"], target) if target is not None else (math.nan, 0)
            bp_s, bp_n = _seconds_to(backprop["runs"], target) if target is not None else (math.nan, 0)
            times.append({"target": target, "ed_seconds": ed_s, "backprop_seconds": bp_s, "ed_reached": ed_n,
                          "backprop_reached": bp_n, "time_ratio": ed_s / bp_s if ed_n and bp_n else math.nan})
        sentence = verdict(ed, backprop, difference, half, [t for t in times if t["target"] is not None])
        for time in times:
            rows.append({"dataset": dataset, "task": task, "budget": budget, "ed": ed["contestant"],
                         "ed_test_accuracy": ed["mean"], "ed_low": ed["mean"] - ed["half"],
                         "ed_high": ed["mean"] + ed["half"], "backprop": backprop["contestant"],
                         "backprop_test_accuracy": backprop["mean"],
                         "backprop_low": backprop["mean"] - backprop["half"],
                         "backprop_high": backprop["mean"] + backprop["half"], "difference": difference,
                         "difference_low": difference - half, "difference_high": difference + half, **time,
                         "verdict": sentence})
    return pd.DataFrame(rows, columns=GAP_COLUMNS)
