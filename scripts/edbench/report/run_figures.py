"""The protocol runs' figures, each method's own entry only (the variants and grids have figures
of their own, entry_figures): accuracy against training time, learning curves, throughput per
method; and deep ED against depth, and ED's XOR convergence beside Kaneko's."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from edbench.report.drawing import finish_panels, log_scale, placeholder, save, with_panels
from edbench.report.entry_figures import method_entries
from edbench.report.palette import method_styles


def accuracy_vs_time(summary: pd.DataFrame, path: Path):
    ok = with_panels(summary[summary["status"] == "ok"])
    palette, markers = method_styles(ok["method"])
    grid = sns.relplot(data=ok, x="train_seconds", y="test_accuracy", hue="method", style="method", col="panel",
                       kind="scatter", s=70, facet_kws={"sharex": False, "sharey": False}, height=3.4,
                       palette=palette, markers=markers)
    log_scale(grid, "x")
    return finish_panels(grid, path, "training time (s, log)", "test accuracy",
                         "Accuracy against training time, one point per seed.", summary)


def learning_curves(curve_table: pd.DataFrame, summary: pd.DataFrame, path: Path):
    ok_runs = summary[summary["status"] == "ok"][["dataset", "task", "method", "seed"]]
    curves = with_panels(curve_table.merge(ok_runs, on=["dataset", "task", "method", "seed"]))
    if curves.empty:
        return placeholder(path, "no learning curves recorded")
    grid = sns.relplot(data=curves, x="epoch", y="train_loss", hue="method", col="panel", kind="line",
                       errorbar=("pi", 100), facet_kws={"sharex": False, "sharey": False}, height=3.4,
                       palette=method_styles(curves["method"])[0])
    log_scale(grid, "y")
    return finish_panels(grid, path, "epoch", "training loss (log)",
                         "Learning curves: mean over seeds, band = min–max.", summary)


def time_per_method(summary: pd.DataFrame, path: Path):
    ok = with_panels(summary[summary["status"] == "ok"])
    grid = sns.catplot(data=ok, x="samples_per_second", y="method", col="panel", kind="bar", errorbar=("pi", 100),
                       sharex=False, height=3.4, hue="method", palette=method_styles(ok["method"])[0], legend=False)
    log_scale(grid, "x")
    return finish_panels(grid, path, "training samples per second (log)", "",
                         "Training throughput per method, bar = mean over seeds, line = min–max.", summary)


def depth_sweep(sweep: pd.DataFrame, path: Path):
    ok = sweep[sweep["status"] == "ok"]
    if ok.empty:
        return placeholder(path, "no ed_deep runs in this config")
    ok = with_panels(ok)
    grid = sns.relplot(data=ok, x="depth", y="test_accuracy", hue="rule", style="rule", col="panel", kind="line",
                       marker="o", errorbar=("pi", 100), facet_kws={"sharey": False}, height=3.4)
    grid.set(xscale="log")
    return finish_panels(grid, path, "hidden layers of 2+2 cells (log)", "test accuracy",
                         "Deep ED: accuracy against depth, faithful and bidirectional rules; mean, band min–max.",
                         sweep)


def xor_convergence(xor: pd.DataFrame, kaneko: dict[int, float], path: Path):
    if xor is None or xor.empty:
        return placeholder(path, "XOR table not run")
    filled = xor.assign(epochs=xor["epochs"].fillna(xor["max_epochs"] + 1))
    figure, ax = plt.subplots(figsize=(5.5, 3.6))
    sns.stripplot(data=filled, x="hidden", y="epochs", color="0.6", alpha=0.6, size=4, ax=ax, label="ours, per seed")
    medians = filled.groupby("hidden")["epochs"].median()
    positions = {h: i for i, h in enumerate(sorted(filled["hidden"].unique()))}
    ax.plot([positions[h] for h in medians.index], medians.values, "o-", color="C0", label="ours, median")
    known = [(positions[h], v) for h, v in kaneko.items() if h in positions]
    if known:
        ax.plot(*zip(*known), "s--", color="C3", label="Kaneko (reported)")
    ax.set_yscale("log")
    ax.set_xlabel("hidden cells")
    ax.set_ylabel("epochs until summed |e| < 0.1 (log)")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize=8)
    ax.set_title(f"ED on XOR, {filled['seed'].nunique()} seeds per size", fontsize=9)
    return save(figure, path)


FIGURES = {
    "accuracy_vs_time": accuracy_vs_time,
    "time_per_method": time_per_method,
}


def draw_all(summary: pd.DataFrame, curve_table: pd.DataFrame, out_dir: Path, sweep: pd.DataFrame | None = None,
             xor: pd.DataFrame | None = None, kaneko: dict[int, float] | None = None) -> dict:
    """Each protocol figure drawn into ``out_dir``: its path -> its matplotlib figure."""
    out_dir = Path(out_dir)
    own = method_entries(summary)
    drawn = {out_dir / f"{name}.png": draw(own, out_dir / f"{name}.png") for name, draw in FIGURES.items()}
    drawn[out_dir / "learning_curves.png"] = learning_curves(curve_table, own, out_dir / "learning_curves.png")
    drawn[out_dir / "depth_sweep.png"] = depth_sweep(sweep if sweep is not None else pd.DataFrame(columns=["status"]),
                                                     out_dir / "depth_sweep.png")
    drawn[out_dir / "xor_convergence.png"] = xor_convergence(xor, kaneko or {}, out_dir / "xor_convergence.png")
    return drawn
