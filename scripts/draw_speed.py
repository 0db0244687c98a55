"""Draw the speed figures from speed.csv: in a job of their own, so that a figure that fails to
draw costs no measurement (Snakemake removes a failed job's outputs)."""
import argparse
from pathlib import Path

from edbench import cli


def body():
    import pandas as pd

    from edbench.report import speed_figures

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", type=Path, required=True, help="speed.csv")
    parser.add_argument("--figure", type=Path, required=True)
    parser.add_argument("--batch-figure", type=Path, required=True, help="throughput against batch size")
    args = parser.parse_args()
    table = pd.read_csv(args.table)
    speed_figures.speed(table, args.figure)
    speed_figures.speed_by_batch(table, args.batch_figure)


if __name__ == "__main__":
    cli.main(body)
