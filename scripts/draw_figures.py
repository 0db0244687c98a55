"""Draw the comparison figures from summary.csv and curves.csv."""
import argparse
from pathlib import Path

import _cli


def body():
    import pandas as pd

    from edbench import figures

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()
    summary = pd.read_csv(args.tables / "summary.csv")
    curves = pd.read_csv(args.tables / "curves.csv")
    figures.draw_all(summary, curves, args.out_dir)


if __name__ == "__main__":
    _cli.main(body)
