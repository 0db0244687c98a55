"""The race's figures: each winner's accuracy against time with the Pareto front, time to each
validation target, and every trial of every search."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd
import seaborn as sns

from edbench.report.drawing import placeholder, save
from edbench.report.palette import method_styles


def pareto_front(points: pd.DataFrame) -> pd.DataFrame:
    """The points no other point beats on both time (lower) and accuracy (higher), by time."""
    front, best = [], -float("inf")
    for row in points.sort_values(["train_seconds_median", "test_accuracy_mean"], ascending=[True, False]).itertuples():
        if row.test_accuracy_mean > best:
            front.append(row.Index)
            best = row.test_accuracy_mean
    return points.loc[front]


def headline(table: pd.DataFrame, task: str, path: Path) -> None:
    """One point per race winner on ``task``: mean test accuracy with its 95% interval over seeds
    against median training time, the Pareto front drawn through the points no one beats."""
    rows = table[(table["task"] == task) & table["test_accuracy_mean"].notna()]
    if rows.empty:
        placeholder(path, f"no race winners on {task} in this config")
        return
    figure, ax = plt.subplots(figsize=(6.4, 4.2))
    palette, markers = method_styles(rows["contestant"])
    for row in rows.itertuples():
        low = row.test_accuracy_mean - row.test_accuracy_ci95_low if pd.notna(row.test_accuracy_ci95_low) else 0
        high = row.test_accuracy_ci95_high - row.test_accuracy_mean if pd.notna(row.test_accuracy_ci95_high) else 0
        label = row.contestant + (" (capped)" if isinstance(row.capped, str) and row.capped else "")
        ax.errorbar(row.train_seconds_median, row.test_accuracy_mean, yerr=[[low], [high]], fmt=markers[row.contestant],
                    color=palette[row.contestant], markersize=8, capsize=3, label=label)
    front = pareto_front(rows)
    ax.step(front["train_seconds_median"], front["test_accuracy_mean"], where="post", color="0.3", lw=1,
            ls="--", label="Pareto front", zorder=0)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("training time, median over seeds (s, log)")
    ax.set_ylabel("test accuracy (mean, 95% CI over seeds)")
    datasets = ", ".join(sorted(rows["dataset"].unique()))
    ax.set_title(f"{task} ({datasets}): each method at its tuned setting", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    save(figure, path)


def time_to_target(table: pd.DataFrame, path: Path) -> None:
    """Median seconds to first reach each validation target, per race winner; a seed that never
    reached it is counted beside the bar."""
    if table.empty:
        placeholder(path, "no race in this config")
        return
    frame = table.assign(panel=table["task"] + " ≥ " + table["target"].map("{:.3g}".format))
    palette, markers = method_styles(frame["contestant"])
    panels = list(dict.fromkeys(frame["panel"]))
    order = sorted(frame["contestant"].unique())
    figure, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False, sharey=True)
    for ax, panel in zip(axes[0], panels):
        part = frame[frame["panel"] == panel]
        reached = part[part["median_seconds"].notna()]
        for row in reached.itertuples():
            ax.scatter(row.median_seconds, order.index(row.contestant), color=palette[row.contestant],
                       marker=markers[row.contestant], s=60)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        left = reached["median_seconds"].min() if len(reached) else 1.0
        for row in part[part["never_reached"] > 0].itertuples():
            ax.text(left, order.index(row.contestant), f"{row.never_reached}/{row.seeds} never", va="center",
                    fontsize=7, color="0.3")
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(-0.5, len(order) - 0.5)
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel("median seconds to target (log)")
    figure.suptitle("Time to first reach each validation target (race winners)", fontsize=9)
    figure.tight_layout()
    save(figure, path)


def search(best: pd.DataFrame, path: Path) -> None:
    """Validation accuracy of every trial of every search, the chosen one ringed."""
    if best.empty:
        placeholder(path, "no race in this config")
        return
    own = best[best["trained_by"] == best["method"]]
    palette, _ = method_styles(own["contestant"])
    order = sorted(own["contestant"].unique())
    grid = sns.catplot(data=own, x="validation_accuracy", y="contestant", col="task", hue="contestant", order=order,
                       palette=palette, kind="strip", jitter=0.15, height=3.4, sharex=False, legend=False)
    for ax, task in zip(grid.axes.flat, grid.col_names):
        chosen = own[(own["task"] == task) & own["chosen"]]
        ax.scatter(chosen["validation_accuracy"], [order.index(c) for c in chosen["contestant"]], s=140,
                   facecolors="none", edgecolors="black", label="chosen")
    grid.set_axis_labels("validation accuracy of each trial", "")
    grid.figure.suptitle("Each method's search: one dot per trial, the winner ringed", y=1.04, fontsize=9)
    save(grid, path)
