"""The headline figure of a race task, one panel per data set and budget: each winner's test error
(with its 95% interval over seeds) against its median training time, both on log axes, each point
labelled with its method, and the Pareto front. A capped or partial winner is drawn hollow where it
falls inside the range the others set, and otherwise named under the panel: it never sets the range."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from edbench.report.drawing import label_points, log_span, percent, placeholder, readable_log_axis, save
from edbench.report.palette import style


def budgets(headline: pd.DataFrame, task: str) -> list[str]:
    """The task's budgets, shortest first (by the most epochs a winner ran at each)."""
    rows = headline[headline["task"] == task]
    if "budget" not in rows or rows["budget"].isna().all():
        return [""]
    return list(rows.groupby("budget")["epochs"].max().sort_values(kind="stable").index)


def long_budget(headline: pd.DataFrame, task: str) -> str:
    return budgets(headline, task)[-1]


def reservation(row) -> str:
    """Why a winner's point is not like the others ("capped", "1 of 5 seeds diverged"), or ""."""
    if isinstance(row.capped, str) and row.capped:
        return "capped"
    if getattr(row, "diverged", 0) and row.diverged > 0:
        return f"{row.diverged} of {row.runs} seeds diverged"
    return ""


def pareto_front(points: pd.DataFrame, x: str = "train_seconds_median", y: str = "error") -> pd.DataFrame:
    """The points no other point beats on both ``x`` and ``y`` (lower is better on both), by ``x``."""
    front, best = [], math.inf
    for row in points.sort_values([x, y]).itertuples():
        if getattr(row, y) < best:
            front.append(row.Index)
            best = getattr(row, y)
    return points.loc[front]


def with_errors(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with test error (1 - accuracy), its interval, the floor a zero error is drawn at
    (half an error on the largest test set: no test errors) and each row's reservation."""
    floor = 0.5 / rows["test_count"].max()
    frame = rows.assign(reservation=[reservation(r) for r in rows.itertuples()])
    error = (1 - frame["test_accuracy_mean"]).clip(lower=floor)
    low = (1 - frame["test_accuracy_ci95_high"].fillna(frame["test_accuracy_mean"])).clip(lower=floor)
    high = (1 - frame["test_accuracy_ci95_low"].fillna(frame["test_accuracy_mean"])).clip(lower=floor, upper=1)
    return frame.assign(error=error, error_low=low.clip(upper=error), error_high=high.clip(lower=error), floor=floor)


def panel(ax, rows: pd.DataFrame, title: str) -> None:
    """One data set and budget: the points, their labels, the front, and readable log axes."""
    rows = with_errors(rows)
    clean = rows[rows["reservation"] == ""]
    if clean.empty:
        clean = rows
    x_low, x_high = log_span(clean["train_seconds_median"])
    y_low, y_high = log_span(pd.concat([clean["error_low"], clean["error_high"]]), margin=0.15)
    y_high = min(y_high, 1.2)   # no error is above 100%
    inside = rows[rows["train_seconds_median"].between(x_low, x_high) & rows["error"].between(y_low, y_high)]
    labels = []
    for row in inside.itertuples():
        colour, marker = style(row.contestant, row.method)
        hollow = bool(row.reservation)
        ax.errorbar(row.train_seconds_median, row.error, yerr=[[row.error - row.error_low],
                    [row.error_high - row.error]], fmt=marker, color=colour, markersize=8, capsize=3,
                    markerfacecolor="white" if hollow else colour, alpha=0.7 if hollow else 1.0, zorder=3)
        labels.append((row.train_seconds_median, row.error,
                       row.contestant + (f" ({row.reservation})" if hollow else ""), colour))
    front = pareto_front(clean)
    ax.step(front["train_seconds_median"], front["error"], where="post", color="0.35", lw=1, ls="--", zorder=1)
    if rows["error"].eq(rows["floor"]).any():
        ax.axhline(rows["floor"].iloc[0], color="0.6", lw=0.8, ls=":", zorder=0)
    readable_log_axis(ax, "x", x_low, x_high)
    readable_log_axis(ax, "y", y_low, y_high, label=percent)
    ax.grid(True, which="major", color="0.92", lw=0.6)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("training time, median over seeds (s)")
    ax.set_ylabel("test error, mean with 95% interval")
    label_points(ax, labels)
    outside = rows.drop(inside.index)
    if len(outside):
        names = "; ".join(f"{r.contestant} ({r.reservation or 'off the range'}: error {r.error:.0%}, "
                          f"{r.train_seconds_median:.3g} s)" for r in outside.itertuples())
        ax.text(0, -0.2, f"not drawn: {names}", transform=ax.transAxes, fontsize=7, color="0.3", va="top",
                wrap=True)


def key() -> list[Line2D]:
    """The legend: what the lines and hollow markers mean (each point carries its method's label)."""
    return [Line2D([], [], color="0.35", lw=1, ls="--", label="Pareto front: no method both faster and better"),
            Line2D([], [], color="0.6", lw=0.8, ls=":", label="dotted: no test errors (drawn at half an error)"),
            Line2D([], [], color="0.3", marker="o", ls="", markerfacecolor="white",
                   label="hollow: capped or partial, not comparable")]


def headline(table: pd.DataFrame, task: str, path: Path):
    """The task's winners, one panel per data set (rows) and budget (columns)."""
    rows = table[(table["task"] == task) & table["test_accuracy_mean"].notna()]
    if rows.empty:
        return placeholder(path, f"no race winners on {task} in this config")
    if "budget" not in rows:
        rows = rows.assign(budget="")
    datasets, order = sorted(rows["dataset"].unique()), budgets(rows, task)
    figure, axes = plt.subplots(len(datasets), len(order), figsize=(5.8 * len(order), 4.6 * len(datasets)),
                                squeeze=False)
    for row_axes, dataset in zip(axes, datasets):
        for ax, budget in zip(row_axes, order):
            part = rows[(rows["dataset"] == dataset) & (rows["budget"] == budget)]
            epochs = part.loc[part["capped"].isna(), "epochs"].max() if "capped" in part else part["epochs"].max()
            when = f"{budget} budget, {epochs:g} epochs" if budget else f"{epochs:g} epochs"
            if part.empty:
                ax.axis("off")
                continue
            panel(ax, part, f"{task} on {dataset}: {when}")
    figure.legend(handles=key(), loc="lower center", ncol=3 if len(order) > 1 else 1, fontsize=7.5, frameon=False,
                  bbox_to_anchor=(0.5, -0.04))
    figure.suptitle(f"{task}: each method at its tuned setting. Lower left is better.", fontsize=10)
    figure.tight_layout(rect=(0, 0.03, 1, 0.97))
    return save(figure, path)
