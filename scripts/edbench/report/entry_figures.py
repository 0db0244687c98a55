"""Figures of the protocol entries that are not a method's own: the seed articles' protocols and
other variants of a method, each beside the method it varies, and the grids (``entry.key-value``)
other than the depth sweep, each against its grid values."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from edbench.report.drawing import LEGEND_LIMIT, excluded_note, log_span, placeholder, readable_log_axis, save
from edbench.report.palette import style

_GRID_PART = re.compile(r"\.(?=[A-Za-z_]\w*-)")


def protocol_runs(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["role"] == "protocol"] if "role" in summary else summary


def method_entries(summary: pd.DataFrame) -> pd.DataFrame:
    """The protocol runs of each method's own entry (the entry named as its method)."""
    runs = protocol_runs(summary)
    return runs[runs["method"] == runs["implementation"]]


def variant_entries(summary: pd.DataFrame) -> pd.DataFrame:
    """The protocol runs of entries that vary a method (a seed article's protocol, a float32 twin)."""
    runs = protocol_runs(summary)
    return runs[(runs["method"] != runs["implementation"]) & ~runs["method"].str.contains(".", regex=False)]


def grid_values(entry: str) -> tuple[str, dict[str, str]]:
    """("bp_sgd_grid", {"lr": "0.05"}) for "bp_sgd_grid.lr-0.05"."""
    family, *parts = _GRID_PART.split(entry)
    return family, dict(part.split("-", 1) for part in parts)


def spread(runs: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per entry: the mean of ``column`` over its ok seeds and their min and max."""
    ok = runs[runs["status"] == "ok"]
    return ok.groupby("method").agg(mean=(column, "mean"), low=(column, "min"), high=(column, "max"),
                                    median=(column, "median"), implementation=("implementation", "first"))


def under_their_method(implementation: pd.Series) -> list[str]:
    """The entries of ``implementation`` (entry -> method) grouped by method, the method's own first."""
    return sorted(implementation.index, key=lambda entry: (implementation[entry], entry != implementation[entry],
                                                           entry))


def seed_protocols(summary: pd.DataFrame, path: Path):
    """Per task, each variant entry beside its method's own entry: test accuracy (mean, min-max over
    seeds) and median training time."""
    variants = variant_entries(summary)
    if variants.empty:
        return placeholder(path, "no seed-protocol entries in this config")
    own = method_entries(summary)
    tasks = sorted(variants["task"].unique())
    panels = {task: pd.concat([own[(own["task"] == task) & own["method"].isin(variants.loc[variants["task"] == task,
                                                                                          "implementation"])],
                               variants[variants["task"] == task]]) for task in tasks}
    rows = [runs["method"].nunique() + 1.5 for runs in panels.values()]
    figure, axes = plt.subplots(len(tasks), 2, figsize=(10, 0.32 * sum(rows) + 0.8), squeeze=False,
                                gridspec_kw={"height_ratios": rows})
    for (accuracy_ax, time_ax), (task, runs) in zip(axes, panels.items()):
        accuracy, seconds = spread(runs, "test_accuracy"), spread(runs, "train_seconds")
        order = under_their_method(accuracy["implementation"])
        for y, entry in enumerate(order):
            colour, marker = style(entry, accuracy.loc[entry, "implementation"])
            row = accuracy.loc[entry]
            accuracy_ax.errorbar(row["mean"], y, xerr=[[row["mean"] - row["low"]], [row["high"] - row["mean"]]],
                                 fmt=marker, color=colour, capsize=3, markersize=7)
            time_ax.plot(seconds.loc[entry, "median"], y, marker, color=colour, markersize=7)
        accuracy_ax.set_yticks(range(len(order)), order)
        time_ax.set_yticks(range(len(order)), [])
        accuracy_ax.set_title(f"{task}: test accuracy (mean, min–max over seeds)", fontsize=9)
        time_ax.set_title(f"{task}: training seconds (median over seeds)", fontsize=9)
        readable_log_axis(time_ax, "x", *log_span(seconds["median"]))
        for ax in (accuracy_ax, time_ax):
            ax.set_ylim(len(order) - 0.5, -0.5)
            ax.grid(True, axis="x", color="0.92", lw=0.6)
    figure.suptitle(f"The seed articles' protocols and other variants, each under the method it varies. "
                    f"{excluded_note(variants)}".strip(), fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    return save(figure, path)


def grids(summary: pd.DataFrame, path: Path, apart: set[str] = frozenset()):
    """Each grid entry family on each task: test accuracy (mean, min-max over seeds) against its
    first grid value, one line per combination of the others. Entries in ``apart`` (the depth
    sweep, drawn on its own) are left out."""
    runs = protocol_runs(summary)
    runs = runs[runs["method"].str.contains(".", regex=False) & ~runs["method"].isin(apart)]
    if runs.empty:
        return placeholder(path, "no grids in this config other than the depth sweep")
    parsed = [grid_values(entry) for entry in runs["method"]]
    runs = runs.assign(family=[family for family, _ in parsed], value=[next(iter(v.values())) for _, v in parsed],
                       key=[next(iter(v)) for _, v in parsed],
                       series=[", ".join(f"{k} {x}" for k, x in list(v.items())[1:]) for _, v in parsed])
    panels = sorted(runs.groupby(["family", "task"]).groups)
    figure, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
    for ax, (family, task) in zip(axes[0], panels):
        part = runs[(runs["family"] == family) & (runs["task"] == task)]
        numeric = pd.to_numeric(part["value"], errors="coerce")
        part = part.assign(x=numeric if numeric.notna().all() else part["value"])
        for series, lines in part.groupby("series"):
            by_value = lines[lines["status"] == "ok"].groupby("x")["test_accuracy"].agg(["mean", "min", "max"])
            colour, marker = style(f"{family} {series}", lines["implementation"].iloc[0])
            ax.errorbar(by_value.index, by_value["mean"], yerr=[by_value["mean"] - by_value["min"],
                        by_value["max"] - by_value["mean"]], marker=marker, color=colour, capsize=3,
                        label=series or family)
        if numeric.notna().all() and (numeric > 0).all():
            readable_log_axis(ax, "x", *log_span(numeric, margin=0.15))
        ax.set_xlabel(part["key"].iloc[0])
        ax.set_ylabel("test accuracy (mean, min–max over seeds)")
        ax.set_title(f"{family} on {task}", fontsize=9)
        if part["series"].nunique() > 1 and part["series"].nunique() <= LEGEND_LIMIT:
            ax.legend(fontsize=7)
    figure.suptitle(f"Grids, apart from the race and the depth sweep. {excluded_note(runs)}".strip(), fontsize=10)
    figure.tight_layout()
    return save(figure, path)
