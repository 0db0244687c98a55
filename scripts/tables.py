"""Aggregate run JSONs into summary.csv, per_method.csv/.md, curves.csv, reproduction.csv and the race's
best_settings.csv, time_to_target.csv and headline.csv."""
import argparse
from pathlib import Path

from edbench import cli


def body():
    from edbench.report import tables
    from edbench.report.run_files import DamagedRunFile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--runs-under", type=Path, help="also read every run file under this folder (the redraw)")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--claims", type=Path, required=True)
    parser.add_argument("--xor", type=Path, help="xor_convergence.csv, for Kaneko's XOR claims")
    parser.add_argument("--speed", type=Path, help="speed.csv, for the timing claims (used if it exists)")
    args = parser.parse_args()
    runs = [*args.runs, *(sorted(args.runs_under.glob("*/*/*/seed*.json")) if args.runs_under else [])]
    if not runs:
        parser.error("no run files given" + (f" and none under {args.runs_under}" if args.runs_under else ""))
    try:
        tables.write_tables(runs, args.out_dir, args.claims, args.xor, args.speed)
    except DamagedRunFile as error:   # every run is read before any table is written
        parser.exit(2, f"tables.py: {error}\n")


if __name__ == "__main__":
    cli.main(body)
