"""Aggregate run JSONs into summary.csv, per_method.csv/.md, curves.csv, reproduction.csv and the race's
best_settings.csv, time_to_target.csv and headline.csv."""
import argparse
from pathlib import Path

from edbench import cli


def body():
    import pandas as pd

    from edbench import atomic
    from edbench.report import reproduction, xor_convergence
    from edbench.report import tables as aggregate

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--claims", type=Path, required=True)
    parser.add_argument("--xor", type=Path, help="xor_convergence.csv, for Kaneko's XOR claims")
    parser.add_argument("--speed", type=Path, help="speed.csv, for the timing claims (used if it exists)")
    args = parser.parse_args()
    claims = reproduction.load_claims(args.claims)
    runs = aggregate.read_runs(args.runs)
    summary = aggregate.summary(runs)
    table = aggregate.per_method(aggregate.scored_runs(summary))
    atomic.write_csv(args.out_dir / "summary.csv", summary)
    atomic.write_csv(args.out_dir / "per_method.csv", table)
    atomic.write_text(args.out_dir / "per_method.md", aggregate.per_method_markdown(table))
    atomic.write_csv(args.out_dir / "curves.csv", aggregate.curves(runs))
    atomic.write_csv(args.out_dir / "data_provenance.csv", aggregate.data_provenance(runs))
    atomic.write_csv(args.out_dir / "depth_sweep.csv", aggregate.depth_sweep(runs))
    best = aggregate.best_settings(runs)
    atomic.write_csv(args.out_dir / "best_settings.csv", best)
    atomic.write_csv(args.out_dir / "search_dimensions.csv", aggregate.search_dimensions(best))
    atomic.write_csv(args.out_dir / "time_to_target.csv", aggregate.time_to_target(runs))
    atomic.write_csv(args.out_dir / "headline.csv", aggregate.headline(runs))
    tables = {}
    if args.xor and args.xor.exists():
        tables["xor_convergence"] = xor_convergence.medians(pd.read_csv(args.xor))
    if args.speed and args.speed.exists():
        tables["speed"] = pd.read_csv(args.speed)
    atomic.write_csv(args.out_dir / "reproduction.csv", reproduction.table(runs, claims, tables))
    atomic.write_csv(args.out_dir / "throughput_check.csv", aggregate.throughput_check(summary, tables.get("speed")))


if __name__ == "__main__":
    cli.main(body)
