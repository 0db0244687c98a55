"""Comparison figures drawn with seaborn from the tidy tables."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from . import atomic  # noqa: E402


def _save(grid, path: Path) -> None:
    figure = getattr(grid, "figure", grid)
    atomic.write_atomic(path, lambda tmp: figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(figure)


def _excluded_note(frame: pd.DataFrame) -> str:
    bad = frame[frame["status"] != "ok"]
    if bad.empty:
        return ""
    names = ", ".join(sorted({f"{r.method}/{r.task}/seed{r.seed}" for r in bad.itertuples()}))
    return f"left out (diverged): {names}"


def _plain_log_ticks(grid, axis: str) -> None:
    for ax in grid.axes.flat:
        getattr(ax, f"{axis}axis").set_minor_formatter(matplotlib.ticker.NullFormatter())


def _label(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["panel"] = frame["task"] + " · " + frame["dataset"]
    return frame


def accuracy_vs_time(summary: pd.DataFrame, path: Path) -> None:
    ok = _label(summary[summary["status"] == "ok"])
    grid = sns.relplot(data=ok, x="train_seconds", y="test_accuracy", hue="method", style="method", col="panel",
                       kind="scatter", s=70, facet_kws={"sharex": False, "sharey": False}, height=3.4)
    grid.set(xscale="log")
    _plain_log_ticks(grid, "x")
    grid.set_axis_labels("training time (s, log)", "test accuracy")
    grid.set_titles("{col_name}")
    grid.figure.suptitle(("Accuracy against training time, one point per seed. " + _excluded_note(summary)).strip(),
                         y=1.04, fontsize=9)
    _save(grid, path)


def learning_curves(curve_table: pd.DataFrame, summary: pd.DataFrame, path: Path) -> None:
    ok_runs = summary[summary["status"] == "ok"][["dataset", "task", "method", "seed"]]
    curves = _label(curve_table.merge(ok_runs, on=["dataset", "task", "method", "seed"]))
    grid = sns.relplot(data=curves, x="epoch", y="train_loss", hue="method", col="panel", kind="line",
                       errorbar=("pi", 100), facet_kws={"sharex": False, "sharey": False}, height=3.4)
    grid.set(yscale="log")
    _plain_log_ticks(grid, "y")
    grid.set_axis_labels("epoch", "training loss (log)")
    grid.set_titles("{col_name}")
    grid.figure.suptitle(("Learning curves: mean over seeds, band = min–max. " + _excluded_note(summary)).strip(),
                         y=1.04, fontsize=9)
    _save(grid, path)


def time_per_method(summary: pd.DataFrame, path: Path) -> None:
    ok = _label(summary[summary["status"] == "ok"])
    grid = sns.catplot(data=ok, x="samples_per_second", y="method", col="panel", kind="bar", errorbar=("pi", 100),
                       sharex=False, height=3.4)
    grid.set(xscale="log")
    _plain_log_ticks(grid, "x")
    grid.set_axis_labels("training samples per second (log)", "")
    grid.set_titles("{col_name}")
    grid.figure.suptitle(("Training throughput per method, bar = mean over seeds, line = min–max. " +
                          _excluded_note(summary)).strip(), y=1.04, fontsize=9)
    _save(grid, path)


FIGURES = {
    "accuracy_vs_time": accuracy_vs_time,
    "time_per_method": time_per_method,
}


def draw_all(summary: pd.DataFrame, curve_table: pd.DataFrame, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    paths = []
    for name, draw in FIGURES.items():
        paths.append(out_dir / f"{name}.png")
        draw(summary, paths[-1])
    paths.append(out_dir / "learning_curves.png")
    learning_curves(curve_table, summary, paths[-1])
    return paths
