"""Draw every figure from the tables in one folder, and the report's landing page beside them."""
import argparse
from pathlib import Path

from edbench import cli


def body():
    from edbench.report import figures

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--claims", type=Path, required=True)
    parser.add_argument("--race-tasks", nargs="*", default=None,
                        help="tasks to draw a headline figure for (default: every task headline.csv has)")
    parser.add_argument("--speed", type=Path, help="speed.csv, to redraw the speed figures from")
    args = parser.parse_args()
    figures.draw_figures(args.tables, args.out_dir, args.claims, args.race_tasks, args.speed)


if __name__ == "__main__":
    cli.main(body)
