"""The gap between ED and backprop, per data set, task and budget (from gap.csv): the difference
in test accuracy with its 95% interval, and how much longer ED took to each validation target."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from edbench.report.drawing import log_span, placeholder, readable_log_axis, save
from edbench.report.palette import colour


def ratio_label(value: float) -> str:
    return f"{value:g}×"


def accuracy_panel(ax, cases: pd.DataFrame) -> None:
    """ED's test accuracy minus backprop's, in points, with the interval of the difference."""
    for y, row in enumerate(cases.itertuples()):
        tint = colour(row.ed)
        ax.errorbar(100 * row.difference, y, xerr=[[100 * (row.difference - row.difference_low)],
                    [100 * (row.difference_high - row.difference)]], fmt="o", color=tint, capsize=3, markersize=7)
        ax.annotate(f"ED {row.ed} {row.ed_test_accuracy:.1%} vs backprop {row.backprop} "
                    f"{row.backprop_test_accuracy:.1%}",
                    (100 * row.difference, y), xytext=(0, 9), textcoords="offset points", ha="center", fontsize=7,
                    color="0.25")
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_xlabel("ED − backprop, test accuracy (points; 95% interval)\n← backprop better   ED better →")
    ax.grid(True, axis="x", color="0.92", lw=0.6)


def time_panel(ax, times: pd.DataFrame, rows: list[tuple]) -> None:
    """ED's seconds to each validation target over backprop's; a target one side never reached is
    written at the edge."""
    finite = times.loc[times["time_ratio"].notna(), "time_ratio"]
    low, high = log_span(pd.concat([finite, pd.Series([1.0])]), margin=0.2)
    for row in times.itertuples():
        base = rows.index((row.dataset, row.task, row.budget))
        targets = sorted(times.loc[(times["task"] == row.task) & (times["budget"] == row.budget)
                                   & (times["dataset"] == row.dataset), "target"])
        y = base + 0.25 * (targets.index(row.target) - (len(targets) - 1) / 2)
        if not math.isnan(row.time_ratio):
            ax.plot(row.time_ratio, y, "o", color=colour(row.ed), markersize=6)
            ax.annotate(f"≥{row.target:g}", (row.time_ratio, y), xytext=(6, 0), textcoords="offset points",
                        fontsize=6.5, va="center", color="0.3")
        elif row.backprop_reached and not row.ed_reached:
            ax.text(high, y, f"ED never reached {row.target:g}  ", ha="right", va="center", fontsize=7, color="0.2")
        elif row.ed_reached and not row.backprop_reached:
            ax.text(low, y, f"  backprop never reached {row.target:g}", va="center", fontsize=7, color="0.2")
    ax.axvline(1, color="0.4", lw=0.8)
    readable_log_axis(ax, "x", low, high, label=ratio_label)
    ax.set_xlabel("ED's seconds to the validation target ÷ backprop's\n← ED faster   ED slower →")
    ax.grid(True, axis="x", color="0.92", lw=0.6)


def gap(table: pd.DataFrame, path: Path, budget_order: dict | None = None):
    """One row per data set, task and budget: the best ED and best backprop winner compared."""
    if table.empty:
        return placeholder(path, "no ED and backprop winners to compare in this config")
    order = budget_order or {}
    cases = table.drop_duplicates(["dataset", "task", "budget"]).copy()
    cases["rank"] = [order.get(r.task, []).index(r.budget) if r.budget in order.get(r.task, []) else 0
                     for r in cases.itertuples()]
    cases = cases.sort_values(["dataset", "task", "rank"]).reset_index(drop=True)
    rows = list(zip(cases["dataset"], cases["task"], cases["budget"]))
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 1.0 * len(rows) + 1.6), sharey=True)
    accuracy_panel(left, cases)
    time_panel(right, table, rows)
    left.set_yticks(range(len(rows)), [f"{task} on {dataset}\n{budget} budget" for dataset, task, budget in rows])
    left.set_ylim(len(rows) - 0.5, -0.6)
    figure.suptitle("ED against backprop: the best of each family, chosen on validation", fontsize=10)
    figure.tight_layout()
    return save(figure, path)
