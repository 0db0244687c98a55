"""Draw the comparison figures from summary.csv and curves.csv."""
import argparse
from pathlib import Path

from edbench import cli


def body():
    import pandas as pd

    from edbench.report import figures, reproduction

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--claims", type=Path, required=True)
    parser.add_argument("--race-tasks", nargs="*", default=[], help="tasks to draw a headline figure for")
    args = parser.parse_args()
    summary = pd.read_csv(args.tables / "summary.csv")
    curves = pd.read_csv(args.tables / "curves.csv")
    sweep = pd.read_csv(args.tables / "depth_sweep.csv")
    xor_path = args.tables / "xor_convergence.csv"
    xor = pd.read_csv(xor_path) if xor_path.exists() else None
    kaneko = {c["select"]["hidden"]: c["paper_value"] for c in reproduction.load_claims(args.claims)
              if c.get("table") == "xor_convergence"}
    figures.draw_all(summary, curves, args.out_dir, sweep, xor, kaneko)
    headline = pd.read_csv(args.tables / "headline.csv")
    for task in args.race_tasks:
        figures.headline(headline, task, args.out_dir / f"headline_{task}.png")
    figures.time_to_target(pd.read_csv(args.tables / "time_to_target.csv"), args.out_dir / "time_to_target.png")
    figures.search(pd.read_csv(args.tables / "best_settings.csv"), args.out_dir / "search.png")


if __name__ == "__main__":
    cli.main(body)
