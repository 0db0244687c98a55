"""Every table the tables rule writes, from the run files (and the XOR and speed tables when they
exist) to CSV and Markdown in one folder."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from edbench import atomic
from edbench.report import reproduction, xor_convergence
from edbench.report.deep_study import deep_study
from edbench.report.gap import gap
from edbench.report.method_summary import per_method, per_method_markdown
from edbench.report.race_tables import best_settings, headline, search_dimensions, search_edges, time_to_target
from edbench.report.run_tables import curves, data_provenance, depth_sweep, read_runs, scored_runs, summary
from edbench.report.throughput import throughput_check


def write_tables(run_paths, out_dir: Path, claims_path: Path, xor_path: Path | None = None,
                 speed_path: Path | None = None) -> None:
    """summary.csv, per_method.csv/.md, curves.csv, data_provenance.csv, depth_sweep.csv, the race's
    best_settings.csv, search_dimensions.csv, search_edges.csv, time_to_target.csv, headline.csv and
    gap.csv, deep_ed_study.csv, reproduction.csv and throughput_check.csv."""
    claims = reproduction.load_claims(claims_path)
    runs = read_runs(run_paths)
    run_table = summary(runs)
    table = per_method(scored_runs(run_table))
    atomic.write_csv(out_dir / "summary.csv", run_table)
    atomic.write_csv(out_dir / "per_method.csv", table)
    atomic.write_text(out_dir / "per_method.md", per_method_markdown(table))
    atomic.write_csv(out_dir / "curves.csv", curves(runs))
    atomic.write_csv(out_dir / "data_provenance.csv", data_provenance(runs))
    atomic.write_csv(out_dir / "depth_sweep.csv", depth_sweep(runs))
    best = best_settings(runs)
    atomic.write_csv(out_dir / "best_settings.csv", best)
    atomic.write_csv(out_dir / "search_dimensions.csv", search_dimensions(best))
    atomic.write_csv(out_dir / "time_to_target.csv", time_to_target(runs))
    atomic.write_csv(out_dir / "headline.csv", headline(runs))
    atomic.write_csv(out_dir / "search_edges.csv", search_edges(runs))
    gaps = gap(runs)
    atomic.write_csv(out_dir / "gap.csv", gaps)
    atomic.write_csv(out_dir / "deep_ed_study.csv", deep_study(runs))
    tables = {"gap": gaps}
    if xor_path and xor_path.exists():
        tables["xor_convergence"] = xor_convergence.medians(pd.read_csv(xor_path))
    if speed_path and speed_path.exists():
        tables["speed"] = pd.read_csv(speed_path)
    atomic.write_csv(out_dir / "reproduction.csv", reproduction.table(runs, claims, tables))
    atomic.write_csv(out_dir / "throughput_check.csv", throughput_check(run_table, tables.get("speed")))
