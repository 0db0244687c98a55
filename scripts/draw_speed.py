"""Draw the speed figures from speed.csv: in a job of their own, so that a figure that fails to
draw costs no measurement (Snakemake removes a failed job's outputs)."""
import argparse
from pathlib import Path

from edbench import cli


def body():
    from edbench.report import figures

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", type=Path, required=True, help="speed.csv")
    parser.add_argument("--out-dir", type=Path, required=True, help="where speed.png and speed_by_batch.png go")
    args = parser.parse_args()
    figures.draw_speed(args.table, args.out_dir)


if __name__ == "__main__":
    cli.main(body)
