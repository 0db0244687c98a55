"""The speed table's figures: every comparison's speed ratio grouped by the question it answers,
and backprop's throughput against PyTorch's by batch size and threads."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch

from edbench.report.drawing import LEGEND_LIMIT, log_span, percent, plain_number, readable_log_axis, save
from edbench.report.palette import METHOD_STYLE, OTHER_COLOUR, colour, method_in

BACKPROP = re.compile(r"bp_(adam|sgd)_vs_torch_(default|best)_b\d+_(?P<threads>\d+)t$")
# the questions of the left column, by the prefix of their rows' names; backprop's, by threads, go right
QUESTIONS = {"ed_": "ED against its baselines", "fd_": "finite differences, step-aware against naive",
             "seed": "the seed articles' protocols"}
OTHER = "other comparisons"


def question(name: str) -> str:
    """The question a comparison answers, by its name."""
    backprop = BACKPROP.match(name)
    if backprop:
        threads = int(backprop["threads"])
        return f"backprop against PyTorch, {threads} thread{'s' if threads > 1 else ''}"
    return next((title for prefix, title in QUESTIONS.items() if name.startswith(prefix)), OTHER)


def grouped(table: pd.DataFrame) -> tuple[list, list]:
    """(left, right): each column's (question, rows) pairs, rows in the table's order; the left
    column holds ED's, finite differences', the seed protocols' and any other rows, the right one
    backprop's against PyTorch, one panel per thread count."""
    asked = table.assign(question=[question(name) for name in table["comparison"]])
    left_order = [*QUESTIONS.values(), OTHER]
    right_order = sorted(set(asked["question"]) - set(left_order), key=lambda q: int(q.split(", ")[1].split()[0]))
    return tuple([(q, asked[asked["question"] == q]) for q in order if (asked["question"] == q).any()]
                 for order in (left_order, right_order))


def bar_name(row) -> str:
    """What a bar compares, short: the backprop rows by optimizer path and batch, the rest by sides
    and workload."""
    if BACKPROP.match(row.comparison):
        return f"{row.candidate} b{row.batch_size} vs {row.baseline}"
    article = re.match(r"seed(\d+)", row.comparison)
    sides = f"{row.candidate} vs {row.baseline} ({row.task}, b{row.batch_size}, {row.dtype})"
    return f"seed {article[1]}: {sides}" if article else sides


def bar_note(row) -> str:
    """The ratio, the candidate's fraction of its bound, and a missed floor."""
    note = f"×{row.ratio:,.0f}" if row.ratio >= 100 else f"×{row.ratio:.3g}"
    if pd.notna(getattr(row, "fraction_of_bound", None)):
        note += f" · {percent(row.fraction_of_bound)} of {row.bound} bound"
    if getattr(row, "floor_met", None) is False or str(getattr(row, "floor_met", "")) == "False":
        note += f" · below its ×{row.floor:g} floor"
    return note


def question_panel(ax, title: str, rows: pd.DataFrame) -> set[str]:
    """One question's ratios as bars from 1 (as fast as the baseline), each with its note; returns
    the methods whose colours it used."""
    methods = [method_in(c) for c in rows["candidate"]]
    low_values = rows["ratio_low"] if "ratio_low" in rows else rows["ratio"]
    high_values = rows["ratio_high"] if "ratio_high" in rows else rows["ratio"]
    low, high = log_span(pd.concat([rows["ratio"], low_values, high_values, pd.Series([1.0])]), margin=0.05)
    high *= (high / low) ** 0.8   # room for the notes
    for y, (row, method) in enumerate(zip(rows.itertuples(), methods)):
        ax.barh(y, row.ratio - 1, left=1, color=colour(method) if method else OTHER_COLOUR, height=0.7)
        spans = int(getattr(row, "measurements", 1) or 1) > 1 and pd.notna(getattr(row, "ratio_low", None))
        if spans:
            # The draws' range, wherever it lies: the ratio of each side's median time can fall
            # outside it, so it is drawn from its ends, not as offsets from the ratio.
            ax.plot([row.ratio_low, row.ratio_high], [y, y], color="0.2", lw=0.8, marker="|", markersize=4)
        ax.annotate(bar_note(row), (max(row.ratio, row.ratio_high if spans else 1, 1), y), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=7)
        if pd.notna(getattr(row, "floor", None)):
            ax.plot(row.floor, y, "|", color="0.1", markersize=9)
    ax.axvline(1, color="0.3", lw=0.8)
    readable_log_axis(ax, "x", low, high, label=lambda v: f"×{plain_number(v)}")
    ax.set_yticks(range(len(rows)), [bar_name(r) for r in rows.itertuples()], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_title(title, fontsize=9, loc="left")
    ax.grid(True, axis="x", color="0.92", lw=0.6)
    return {m for m in methods if m}


def speed(table: pd.DataFrame, path: Path):
    """Each comparison's speed ratio (candidate over baseline, interleaved medians), grouped by the
    question it answers, each bar labelled with its ratio and the fraction of its bound reached."""
    columns = [column for column in grouped(table) if column]
    height = max(sum(len(rows) + 2.5 for _, rows in column) for column in columns)
    figure = plt.figure(figsize=(9.5 * len(columns), 0.24 * height + 1.2))
    outer = figure.add_gridspec(1, len(columns), wspace=0.9)
    used = set()
    for index, column in enumerate(columns):
        cells = outer[index].subgridspec(len(column), 1, height_ratios=[len(rows) + 2.5 for _, rows in column],
                                         hspace=0.6)
        for cell, (title, rows) in zip(cells, column):
            ax = figure.add_subplot(cell)
            used |= question_panel(ax, title, rows)
            ax.set_xlabel("speed ratio: candidate ÷ baseline (| its floor)", fontsize=7)
    handles = [Patch(color=colour(m), label=m) for m in sorted(used)][:LEGEND_LIMIT]
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7.5, frameon=False,
                  bbox_to_anchor=(0.5, -0.02), title="bar colour: the candidate's method", title_fontsize=7.5)
    figure.suptitle("How much faster each implementation is than its baseline, run interleaved in one process",
                    fontsize=10, y=0.995)
    return save(figure, path)


# ours is bp_adam in one column and bp_sgd in the other: black; PyTorch in its colour, both paths
# (their line styles and markers tell them apart)
IMPLEMENTATION_COLOURS = {"ours (NumPy)": "black", "torch best": METHOD_STYLE["torch"][0],
                          "torch default": METHOD_STYLE["torch"][0]}


def speed_by_batch(table: pd.DataFrame, path: Path) -> None:
    """Throughput against batch size: ours, PyTorch at its defaults and at its fastest path, per
    optimizer (columns) and thread count (rows), from the ``bp_*_vs_torch_*`` rows of speed.csv."""
    races = table[table["comparison"].str.match(r"bp_(adam|sgd)_vs_torch_(default|best)_")]
    rows = []
    for r in races.itertuples():
        label = "torch default" if "_vs_torch_default_" in r.comparison else "torch best"
        rows.append({"optimizer": r.optimizer, "threads": r.threads, "batch_size": r.batch_size,
                     "implementation": label, "rate": r.baseline_per_s})
        rows.append({"optimizer": r.optimizer, "threads": r.threads, "batch_size": r.batch_size,
                     "implementation": "ours (NumPy)", "rate": r.candidate_per_s})
    frame = pd.DataFrame(rows, columns=["optimizer", "threads", "batch_size", "implementation", "rate"])
    # ours is timed twice per point (against each PyTorch side): plot the median of both
    frame = frame.groupby(["optimizer", "threads", "batch_size", "implementation"], as_index=False)["rate"].median()
    grid = sns.relplot(data=frame, x="batch_size", y="rate", hue="implementation", style="implementation",
                       col="optimizer", row="threads", kind="line", markers=True, height=2.8, aspect=1.2,
                       facet_kws={"sharey": "row"}, palette=IMPLEMENTATION_COLOURS,
                       hue_order=["ours (NumPy)", "torch best", "torch default"],
                       style_order=["ours (NumPy)", "torch best", "torch default"])
    grid.set(xscale="log")
    for ax in grid.axes.flat:
        ax.set_xticks(sorted(frame["batch_size"].unique()))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    grid.set_axis_labels("batch size", "samples per second")
    grid.figure.suptitle("784-128-10 training throughput, interleaved medians", fontsize=9, y=1.02)
    return save(grid, path)
