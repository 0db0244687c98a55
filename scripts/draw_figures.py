"""Draw the comparison figures from summary.csv and curves.csv."""
import argparse
from pathlib import Path

from edbench import cli


def body():
    from edbench.report import figures

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--claims", type=Path, required=True)
    parser.add_argument("--race-tasks", nargs="*", default=[], help="tasks to draw a headline figure for")
    args = parser.parse_args()
    figures.draw_figures(args.tables, args.out_dir, args.claims, args.race_tasks)


if __name__ == "__main__":
    cli.main(body)
