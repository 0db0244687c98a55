"""What the figures share: the Agg backend, the PNG each is saved as, the placeholder drawn when
there is nothing to show, panels per task and data set, the note naming the runs left out, log
axes with readable ticks, and labels placed beside their points without overlapping."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from edbench import atomic  # noqa: E402

LEGEND_LIMIT = 8   # entries a panel's legend may hold: more than this, and the labels go on the points


def save(grid, path: Path):
    """Write the figure (or seaborn grid) to ``path`` as a PNG and return the matplotlib figure,
    closed, for whoever reads its artists."""
    figure = getattr(grid, "figure", grid)
    atomic.write_atomic(path, lambda tmp: figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(figure)
    return figure


def placeholder(path: Path, message: str):
    figure, ax = plt.subplots(figsize=(5, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=10)
    return save(figure, path)


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
        getattr(ax, f"{axis}axis").set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: plain_number(v)))
        getattr(ax, f"{axis}axis").set_minor_formatter(matplotlib.ticker.NullFormatter())


def finish_panels(grid, path: Path, x_label: str, y_label: str, title: str, shown: pd.DataFrame):
    """Label the panels, title the figure with the runs of ``shown`` left out of it, and save it."""
    grid.set_axis_labels(x_label, y_label)
    grid.set_titles("{col_name}")
    grid.figure.suptitle(f"{title} {excluded_note(shown)}".strip(), y=1.04, fontsize=9)
    return save(grid, path)


def log_ticks(low: float, high: float, most: int = 8) -> list[float]:
    """Tick values for a log axis from ``low`` to ``high``: 1-2-5 steps; finer steps where the range
    is too narrow for three of those; decades (every second, third... one) where it is too wide."""
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)

    def ticks(steps):
        return [float(f"{step}e{power}") for power in decades for step in steps
                if low <= float(f"{step}e{power}") <= high]

    coarse = ticks((1, 2, 5))
    if len(coarse) > most:
        powers = ticks((1,))
        return powers[::max(1, math.ceil(len(powers) / most))]
    if len(coarse) < 3:
        for steps in ((1, 2, 3, 4, 5, 6, 8), (1, 2, 3, 5), (1, 3)):   # no 9: it crowds the next decade's 1
            if 3 <= len(ticks(steps)) <= most:
                return ticks(steps)
    return coarse


def plain_number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1e4 else f"{value:g}"


def percent(value: float) -> str:
    """A fraction as a percentage with two significant digits at most ("45%", "9.3%", "0.33%")."""
    points = value * 100
    return f"{points:.0f}%" if points >= 10 else f"{points:.2g}%"


def readable_log_axis(ax, axis: str, low: float, high: float, label=plain_number, most: int = 8) -> None:
    """``axis`` of ``ax`` on a log scale from ``low`` to ``high``, at most ``most`` ticks, each
    labelled in full."""
    getattr(ax, f"set_{axis}scale")("log")
    getattr(ax, f"set_{axis}lim")(low, high)
    target = getattr(ax, f"{axis}axis")
    target.set_major_locator(matplotlib.ticker.FixedLocator(log_ticks(low, high, most)))
    target.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: label(value)))
    target.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_axisbelow(True)


def log_span(values, margin: float = 0.25) -> tuple[float, float]:
    """The range of positive ``values`` widened by ``margin`` of its width on each side, in log space
    (at least a factor of three in all)."""
    logs = [math.log10(v) for v in values if v > 0 and math.isfinite(v)]
    low, high = (min(logs), max(logs)) if logs else (0.0, 1.0)
    width = max(high - low, math.log10(3))
    middle = (low + high) / 2
    return 10 ** (middle - width * (0.5 + margin)), 10 ** (middle + width * (0.5 + margin))


def _overlaps(box, others) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in others)


def label_points(ax, points: list[tuple[float, float, str, str]], fontsize: float = 7.5) -> None:
    """Write each (x, y, text, colour) beside its point: to the right where that is free of the other
    points and labels, else to the left, else moved up or down (with a thin leader to its point)."""
    ax.figure.canvas.draw()
    scale = ax.figure.dpi / 72   # pixels per point
    height, gap = fontsize * 1.25 * scale, 6 * scale
    where = [tuple(ax.transData.transform((x, y))) for x, y, _, _ in points]
    taken = [(px - gap, py - gap, px + gap, py + gap) for px, py in where]
    for (x, y, text, colour), (px, py) in sorted(zip(points, where), key=lambda pair: -pair[1][1]):
        width = len(text) * fontsize * 0.55 * scale
        candidates = [(side, shift * height) for shift in (0, 1, -1, 2, -2, 3, -3) for side in (1, -1)]
        for side, dy in candidates:
            x0 = px + gap if side > 0 else px - gap - width
            box = (x0, py + dy - height / 2, x0 + width, py + dy + height / 2)
            if not _overlaps(box, taken):
                break
        else:
            side, dy = 1, 0.0
            box = (px + gap, py - height / 2, px + gap + width, py + height / 2)
        taken.append(box)
        ax.annotate(text, (x, y), xytext=(side * gap / scale, dy / scale), textcoords="offset points",
                    fontsize=fontsize, color=colour, va="center", ha="left" if side > 0 else "right",
                    bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
                    arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.5, "alpha": 0.6} if dy else None)
