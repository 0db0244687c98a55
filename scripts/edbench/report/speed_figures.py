"""The speed table's figures: each method against its baseline, and throughput against batch size."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd
import seaborn as sns

from edbench.report.drawing import save


def speed(table: pd.DataFrame, path: Path) -> None:
    """Rates of both sides of every comparison, log scale, with the ratio written on each pair."""
    rows = []
    for r in table.itertuples():
        rows.append({"comparison": r.comparison, "side": "baseline: " + r.baseline, "rate": r.baseline_per_s,
                     "kind": "baseline"})
        rows.append({"comparison": r.comparison, "side": "candidate: " + r.candidate, "rate": r.candidate_per_s,
                     "kind": "candidate"})
    frame = pd.DataFrame(rows)
    figure, ax = plt.subplots(figsize=(8, 0.55 * len(table) + 1.2))
    sns.barplot(data=frame, y="comparison", x="rate", hue="kind", ax=ax, palette=["0.65", "C0"])
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("work per second (samples or gradients, log)")
    ax.set_ylabel("")
    for i, r in enumerate(table.itertuples()):
        mark = "" if r.floor_met is None or pd.isna(r.floor_met) else (" ✓" if r.floor_met else " ✗ below floor")
        ax.text(max(r.baseline_per_s, r.candidate_per_s) * 1.3, i, f"×{r.ratio:.1f}{mark}", va="center", fontsize=8)
    ax.set_xlim(right=ax.get_xlim()[1] * 20)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Each method against its baseline, interleaved in one process (medians)", fontsize=9)
    save(figure, path)


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
                       facet_kws={"sharey": "row"},
                       hue_order=["ours (NumPy)", "torch best", "torch default"],
                       style_order=["ours (NumPy)", "torch best", "torch default"])
    grid.set(xscale="log")
    for ax in grid.axes.flat:
        ax.set_xticks(sorted(frame["batch_size"].unique()))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    grid.set_axis_labels("batch size", "samples per second")
    grid.figure.suptitle("784-128-10 training throughput, interleaved medians", fontsize=9, y=1.02)
    save(grid, path)
