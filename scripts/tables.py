"""Aggregate run JSONs into summary.csv, per_method.csv/.md, curves.csv, reproduction.csv and the race's
best_settings.csv, time_to_target.csv and headline.csv."""
import argparse
from pathlib import Path

from edbench import cli


def body():
    from edbench.report import tables

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--claims", type=Path, required=True)
    parser.add_argument("--xor", type=Path, help="xor_convergence.csv, for Kaneko's XOR claims")
    parser.add_argument("--speed", type=Path, help="speed.csv, for the timing claims (used if it exists)")
    args = parser.parse_args()
    tables.write_tables(args.runs, args.out_dir, args.claims, args.xor, args.speed)


if __name__ == "__main__":
    cli.main(body)
