"""What the figures share: the Agg backend, the PNG each is saved as, the placeholder drawn when
there is nothing to show, panels per task and data set, and the note naming the runs left out."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from edbench import atomic  # noqa: E402


def save(grid, path: Path) -> None:
    figure = getattr(grid, "figure", grid)
    atomic.write_atomic(path, lambda tmp: figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(figure)


def placeholder(path: Path, message: str) -> None:
    figure, ax = plt.subplots(figsize=(5, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=10)
    save(figure, path)


def excluded_note(frame: pd.DataFrame) -> str:
    bad = frame[frame["status"] != "ok"]
    if bad.empty:
        return ""
    names = ", ".join(sorted({f"{r.method}/{r.task}/seed{r.seed}" for r in bad.itertuples()}))
    return f"left out (diverged): {names}"


def with_panels(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the panel each row is drawn in: one per task and data set."""
    frame = frame.copy()
    frame["panel"] = frame["task"] + " · " + frame["dataset"]
    return frame


def log_scale(grid, axis: str) -> None:
    """``axis`` on a log scale in every panel, labelled at its decades only."""
    grid.set(**{f"{axis}scale": "log"})
    for ax in grid.axes.flat:
        getattr(ax, f"{axis}axis").set_minor_formatter(matplotlib.ticker.NullFormatter())


def finish_panels(grid, path: Path, x_label: str, y_label: str, title: str, shown: pd.DataFrame) -> None:
    """Label the panels, title the figure with the runs of ``shown`` left out of it, and save it."""
    grid.set_axis_labels(x_label, y_label)
    grid.set_titles("{col_name}")
    grid.figure.suptitle(f"{title} {excluded_note(shown)}".strip(), y=1.04, fontsize=9)
    save(grid, path)
