"""Aggregate run JSONs into summary.csv, per_method.csv/.md, curves.csv and reproduction.csv."""
import argparse
from pathlib import Path

import _cli


def body():
    from edbench import aggregate, atomic

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--claims", type=Path, required=True)
    args = parser.parse_args()
    runs = aggregate.read_runs(args.runs)
    summary = aggregate.summary(runs)
    table = aggregate.per_method(summary)
    atomic.write_csv(args.out_dir / "summary.csv", summary)
    atomic.write_csv(args.out_dir / "per_method.csv", table)
    atomic.write_text(args.out_dir / "per_method.md", aggregate.per_method_markdown(table))
    atomic.write_csv(args.out_dir / "curves.csv", aggregate.curves(runs))
    atomic.write_csv(args.out_dir / "reproduction.csv", aggregate.reproduction(runs, aggregate.load_claims(args.claims)))


if __name__ == "__main__":
    _cli.main(body)
