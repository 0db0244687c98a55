"""Every figure the figures rule draws, from the tables in one folder."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from edbench.report import race_figures, reproduction, run_figures


def draw_figures(tables: Path, out_dir: Path, claims_path: Path, race_tasks=()) -> None:
    """The protocol runs' figures, Kaneko's XOR table beside ours, a headline figure per race task,
    time to target and the search."""
    summary = pd.read_csv(tables / "summary.csv")
    curves = pd.read_csv(tables / "curves.csv")
    sweep = pd.read_csv(tables / "depth_sweep.csv")
    xor_path = tables / "xor_convergence.csv"
    xor = pd.read_csv(xor_path) if xor_path.exists() else None
    kaneko = {c["select"]["hidden"]: c["paper_value"] for c in reproduction.load_claims(claims_path)
              if c.get("table") == "xor_convergence"}
    run_figures.draw_all(summary, curves, out_dir, sweep, xor, kaneko)
    headline = pd.read_csv(tables / "headline.csv")
    for task in race_tasks:
        race_figures.headline(headline, task, out_dir / f"headline_{task}.png")
    race_figures.time_to_target(pd.read_csv(tables / "time_to_target.csv"), out_dir / "time_to_target.png")
    race_figures.search(pd.read_csv(tables / "best_settings.csv"), out_dir / "search.png")
