"""Every figure the figures rule draws, from the tables in one folder, and the report's landing page
that shows the headline ones."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from edbench import atomic
from edbench.report import (
    entry_figures,
    gap_figure,
    headline_figure,
    landing,
    race_figures,
    reproduction,
    run_figures,
    speed_figures,
)

LANDING_PAGE = "answer.rst"


def read(tables: Path, name: str) -> pd.DataFrame:
    """A table of the folder, or an empty one where this config does not make it."""
    path = tables / name
    return pd.read_csv(path) if path.exists() else pd.DataFrame()


def draw_race(tables: Path, out_dir: Path, race_tasks, summary: pd.DataFrame, curves: pd.DataFrame) -> dict:
    """The race's figures: a headline figure per race task, convergence, the gap between ED and
    backprop, time to target and the searches."""
    headline, targets = pd.read_csv(tables / "headline.csv"), pd.read_csv(tables / "time_to_target.csv")
    raced = list(headline.get("task", pd.Series(dtype=str)).unique())
    race_tasks = raced if race_tasks is None else race_tasks
    drawn = {f"headline_{task}": headline_figure.headline(headline, task, out_dir / f"headline_{task}.png")
             for task in race_tasks}
    order = {task: headline_figure.budgets(headline, task) for task in raced}
    drawn["convergence"] = race_figures.convergence(curves, summary, headline, targets, out_dir / "convergence.png")
    drawn["gap"] = gap_figure.gap(read(tables, "gap.csv"), out_dir / "gap.png", order)
    drawn["time_to_target"] = race_figures.time_to_target(targets, headline, out_dir / "time_to_target.png")
    drawn["search"] = race_figures.search(pd.read_csv(tables / "best_settings.csv"), headline, out_dir / "search.png")
    page = landing.landing(headline, read(tables, "gap.csv"), [out_dir / f"headline_{task}.png" for task in race_tasks])
    atomic.write_text(out_dir / LANDING_PAGE, page)
    return drawn


def draw_speed(speed_table: Path, out_dir: Path) -> dict:
    """The speed figures, redrawn from an existing speed table."""
    table = pd.read_csv(speed_table)
    return {"speed": speed_figures.speed(table, out_dir / "speed.png"),
            "speed_by_batch": speed_figures.speed_by_batch(table, out_dir / "speed_by_batch.png")}


def draw_figures(tables: Path, out_dir: Path, claims_path: Path, race_tasks=None,
                 speed_table: Path | None = None) -> dict:
    """Every figure, by name -> its matplotlib figure: the protocol runs', the variants' and grids',
    Kaneko's XOR table beside ours, the race's, and the speed table's where ``speed_table`` is given;
    and the landing page."""
    summary = pd.read_csv(tables / "summary.csv")
    curves = pd.read_csv(tables / "curves.csv")
    sweep = pd.read_csv(tables / "depth_sweep.csv")
    xor_path = tables / "xor_convergence.csv"
    xor = pd.read_csv(xor_path) if xor_path.exists() else None
    kaneko = {c["select"]["hidden"]: c["paper_value"] for c in reproduction.load_claims(claims_path)
              if c.get("table") == "xor_convergence"}
    drawn = {path.stem: figure for path, figure in
             run_figures.draw_all(summary, curves, out_dir, sweep, xor, kaneko).items()}
    drawn["seed_protocols"] = entry_figures.seed_protocols(summary, out_dir / "seed_protocols.png")
    drawn["grids"] = entry_figures.grids(summary, out_dir / "grids.png", set(sweep.get("method", [])))
    drawn |= draw_race(tables, out_dir, race_tasks, summary, curves)
    if speed_table is not None:
        drawn |= draw_speed(speed_table, out_dir)
    return drawn
