"""The race's other figures, winners only: how each winner's validation error falls with training
time at the long budget (convergence), the time each took to every validation target, and every
candidate of every search with the one chosen."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from edbench.report.drawing import LEGEND_LIMIT, label_points, log_span, percent, placeholder, readable_log_axis, save
from edbench.report.headline_figure import budgets, long_budget
from edbench.report.palette import method_styles, style


def capped_contestants(headline: pd.DataFrame, task: str, budget: str) -> set[str]:
    rows = headline[(headline["task"] == task) & (headline.get("budget", budget) == budget)]
    # "" or, read back from a CSV, NaN where nothing was capped
    return set(rows.loc[rows["capped"].map(lambda value: isinstance(value, str) and value != ""), "contestant"])


def winner_curves(curves: pd.DataFrame, summary: pd.DataFrame, headline: pd.DataFrame) -> pd.DataFrame:
    """Every winner's curve at its task's long budget, with its contestant and validation error."""
    winners = summary[(summary["role"] == "winner") & (summary["status"] == "ok")]
    frame = curves.merge(winners[["dataset", "task", "method", "seed", "contestant", "stage", "implementation"]],
                         on=["dataset", "task", "method", "seed"])
    longest = {task: long_budget(headline, task) for task in frame["task"].unique()}
    frame = frame[frame["stage"] == frame["task"].map(longest)]
    return frame[frame["validation_accuracy"].notna()].assign(error=1 - frame["validation_accuracy"])


def convergence_panel(ax, part: pd.DataFrame, targets: list[float], capped: set[str]) -> dict:
    """Median validation error over seeds against median seconds, per epoch, with the min-max band;
    returns each line by its legend label."""
    floor = part.loc[part["error"] > 0, "error"].min() / 2 if (part["error"] > 0).any() else 1e-3
    clean = part[~part["contestant"].isin(capped)] if (~part["contestant"].isin(capped)).any() else part
    x_low, x_high = log_span(clean["seconds"], margin=0.1)
    lines = {}
    for contestant, runs in sorted(part.groupby("contestant")):
        by_epoch = runs.groupby("epoch").agg(seconds=("seconds", "median"), error=("error", "median"),
                                             low=("error", "min"), high=("error", "max"))
        colour, marker = style(contestant, runs["implementation"].iloc[0])
        label = contestant
        if contestant in capped:
            shown = by_epoch["seconds"].between(x_low, x_high).any()
            label += " (capped)" if shown else " (capped, beyond the axes)"
        lines[label], = ax.plot(by_epoch["seconds"], by_epoch["error"].clip(lower=floor), color=colour,
                                marker=marker, markersize=4, ls="--" if contestant in capped else "-", lw=1.4,
                                label=label)
        ax.fill_between(by_epoch["seconds"], by_epoch["low"].clip(lower=floor), by_epoch["high"].clip(lower=floor),
                        color=colour, alpha=0.15, lw=0)
    for target in targets:
        ax.axhline(1 - target, color="0.5", lw=0.7, ls=":")
        ax.text(1.0, 1 - target, f" target {target:g}", transform=ax.get_yaxis_transform(), fontsize=7,
                color="0.4", va="center")
    if (part["error"] <= floor).any():
        ax.text(0.01, floor, "no validation errors ", transform=ax.get_yaxis_transform(), fontsize=6.5,
                color="0.4", va="bottom")
    readable_log_axis(ax, "x", x_low, x_high)
    errors = pd.concat([clean["error"].clip(lower=floor), pd.Series([1 - t for t in targets], dtype=float)])
    readable_log_axis(ax, "y", *log_span(errors, margin=0.1), label=percent)
    ax.grid(True, which="major", color="0.92", lw=0.6)
    ax.set_xlabel("training seconds (median over seeds, cumulative per epoch)")
    ax.set_ylabel("validation error (median; band min–max)")
    return lines


def convergence(curves: pd.DataFrame, summary: pd.DataFrame, headline: pd.DataFrame, targets: pd.DataFrame,
                path: Path):
    """Per data set and task, each race winner's validation error against training seconds at the
    long budget: the median over seeds, the band spanning them."""
    if "seconds" not in curves or "role" not in summary or headline.empty:
        return placeholder(path, "no race with timed curves in this config")
    frame = winner_curves(curves, summary, headline)
    if frame.empty:
        return placeholder(path, "no race winner recorded validation accuracy")
    panels = sorted(frame.groupby(["dataset", "task"]).groups)
    figure, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.6), squeeze=False)
    lines = {}
    for ax, (dataset, task) in zip(axes[0], panels):
        budget = long_budget(headline, task)
        goals = sorted(targets.loc[targets["task"] == task, "target"].unique()) if len(targets) else []
        drawn = convergence_panel(ax, frame[(frame["dataset"] == dataset) & (frame["task"] == task)], goals,
                                  capped_contestants(headline, task, budget))
        ax.set_title(f"{task} on {dataset}, {budget} budget", fontsize=9)
        lines |= drawn
        if len(drawn) > LEGEND_LIMIT:
            label_points(ax, [(line.get_xdata()[-1], line.get_ydata()[-1], label, line.get_color())
                              for label, line in drawn.items()])
    if len(lines) <= LEGEND_LIMIT:
        figure.legend(handles=[lines[label] for label in sorted(lines)], loc="lower center", ncol=min(len(lines), 4),
                      fontsize=7.5, frameon=False, bbox_to_anchor=(0.5, -0.1))
    figure.suptitle("Convergence of the race winners: validation error against wall-clock training time",
                    fontsize=10)
    figure.tight_layout()
    return save(figure, path)


def target_panel(ax, part: pd.DataFrame, order: list[str], capped: set[str]) -> None:
    """One task and target: each winner's median seconds to reach it, or how many seeds never did."""
    reached = part[part["median_seconds"].notna()]
    clean = reached[~reached["contestant"].isin(capped)]
    low, high = log_span(clean["median_seconds"] if len(clean) else reached["median_seconds"], margin=0.15)
    for row in part.itertuples():
        y = order.index(row.contestant)
        colour, marker = style(row.contestant)
        hollow = row.contestant in capped
        if pd.isna(row.median_seconds):
            ax.text(low, y, f"  never ({row.never_reached}/{row.seeds} seeds)", va="center", fontsize=7, color="0.4")
        elif row.median_seconds > high:
            ax.text(high, y, f"{row.median_seconds:.3g} s{' capped' if hollow else ''} →  ", va="center",
                    ha="right", fontsize=7, color=colour)
        else:
            ax.scatter(row.median_seconds, y, color="white" if hollow else colour, edgecolors=colour, marker=marker,
                       s=60, zorder=3)
            if row.never_reached:
                ax.text(row.median_seconds, y - 0.3, f"{row.never_reached}/{row.seeds} never", fontsize=6,
                        color="0.4", ha="center")
    readable_log_axis(ax, "x", low, high, most=4)
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.grid(True, axis="x", color="0.92", lw=0.6)


def time_to_target(table: pd.DataFrame, headline: pd.DataFrame, path: Path):
    """Median seconds to first reach each validation target, per race winner at the task's long
    budget, one row of panels per task; a seed that never reached it is counted beside the row."""
    if table.empty:
        return placeholder(path, "no race in this config")
    if "budget" in table:
        table = table[table["budget"] == table["task"].map({t: long_budget(headline, t) for t in table["task"]})]
    tasks = list(dict.fromkeys(table["task"]))
    columns = max(table.groupby("task")["target"].nunique())
    order = sorted(table["contestant"].unique())
    figure, axes = plt.subplots(len(tasks), columns, figsize=(3.4 * columns, 0.3 * len(order) * len(tasks) + 1.4),
                                squeeze=False)
    for row_axes, task in zip(axes, tasks):
        part = table[table["task"] == task]
        goals = sorted(part["target"].unique())
        capped = capped_contestants(headline, task, long_budget(headline, task))
        for index, ax in enumerate(row_axes):
            if index >= len(goals):
                ax.axis("off")
                continue
            target_panel(ax, part[part["target"] == goals[index]], order, capped)
            ax.set_title(f"{task}: validation accuracy ≥ {goals[index]:g}", fontsize=9)
            ax.set_xlabel("median seconds to reach it")
            if index:
                ax.set_yticklabels([])
    figure.suptitle("Time to first reach each validation target, race winners at the long budget", fontsize=10)
    figure.tight_layout()
    return save(figure, path)


def search(best: pd.DataFrame, headline: pd.DataFrame, path: Path):
    """Validation accuracy of every candidate of every search, the chosen one ringed; one row of
    panels per budget (the first budget's trials, then the promoted ones)."""
    if best.empty:
        return placeholder(path, "no race in this config")
    own = best[best["trained_by"] == best["method"]]
    if "budget" not in own:
        own = own.assign(budget="")
    palette, _ = method_styles(own["contestant"])
    order = sorted(own["contestant"].unique())
    rows = budgets(headline.assign(budget=headline.get("budget", "")), own["task"].iloc[0])
    grid = sns.catplot(data=own, x="validation_accuracy", y="contestant", col="task", row="budget", row_order=rows,
                       hue="contestant", order=order, palette=palette, kind="strip", jitter=0.15, height=3.0,
                       aspect=1.3, sharex=False, legend=False)
    for (budget, task), ax in grid.axes_dict.items():
        chosen = own[(own["task"] == task) & (own["budget"] == budget) & own["chosen"]]
        ax.scatter(chosen["validation_accuracy"], [order.index(c) for c in chosen["contestant"]], s=140,
                   facecolors="none", edgecolors="black")
        ax.set_title(f"{task}, {budget} budget" if budget else task, fontsize=9)
    grid.set_axis_labels("validation accuracy of each candidate", "")
    grid.figure.suptitle("Each method's search: one dot per candidate, the chosen one ringed", y=1.02, fontsize=9)
    return save(grid, path)
