"""Print the README's headline tables (Markdown) from a results folder: computed, never typed in.

    python scripts/headline.py results/reference
"""
import argparse
from pathlib import Path

import pandas as pd

TASKS = ["gates", "mnist01", "mnist10", "fashion10"]


def percent(value) -> str:
    return "" if pd.isna(value) else f"{value * 100:.1f}%"


def accuracy_table(per_method: pd.DataFrame, summary: pd.DataFrame) -> str:
    threads = summary.groupby("method")["threads"].max()
    lines = ["| entry | " + " | ".join(f"{t} acc" for t in TASKS) + " | mnist10 samples/s | threads | seeds |",
             "|---|" + "---|" * (len(TASKS) + 3)]
    for method, group in per_method.groupby("method", sort=False):
        if "." in method:   # grid and sweep variants: per_method.md and best_settings.csv have them
            continue
        by_task = group.set_index("task")
        cells = []
        for task in TASKS:
            if task not in by_task.index:
                cells.append("")
                continue
            row = by_task.loc[task]
            spread = "" if pd.isna(row["test_accuracy_min"]) or row["runs"] < 2 else \
                f" ({row['test_accuracy_min'] * 100:.1f}–{row['test_accuracy_max'] * 100:.1f})"
            cells.append(percent(row["test_accuracy_mean"]) + spread)
        rate = by_task.loc["mnist10", "samples_per_second_mean"] if "mnist10" in by_task.index else None
        runs = int(group["runs"].max())
        shown_rate = "" if rate is None else f"{rate:,.0f}"
        lines.append(f"| `{method}` | " + " | ".join(cells) + f" | {shown_rate} | {threads.get(method, '')} | {runs} |")
    return "\n".join(lines)


def reproduction_table(frame: pd.DataFrame) -> str:
    lines = ["| source | claim | article | ours | protocol matches | what differs |", "|---|---|---|---|---|---|"]
    for row in frame.itertuples():
        def show(value, unit=row.unit):
            if pd.isna(value):
                return "not run"
            return f"{value * 100:.2f}%" if unit == "fraction" else f"{value:,.3g}"
        differs = "" if pd.isna(row.protocol_differences) else row.protocol_differences
        article = row.paper_text if isinstance(row.paper_text, str) and row.paper_text else show(row.paper_value)
        lines.append(f"| {row.source} | {row.claim} | {article} | {show(row.our_value)} | {row.protocol_matches} "
                     f"| {differs} |")
    return "\n".join(lines)


def speed_table(frame: pd.DataFrame) -> str:
    lines = ["| comparison | baseline/s | candidate/s | ratio | floor | same result | bound | of bound |",
             "|---|---|---|---|---|---|---|---|"]
    for row in frame.itertuples():
        floor = "" if pd.isna(row.floor) else f"≥ {row.floor:g} ({'met' if row.floor_met else 'missed'})"
        lines.append(f"| `{row.comparison}` | {row.baseline_per_s:,.0f} | {row.candidate_per_s:,.0f} | "
                     f"{row.ratio:.2f} | {floor} | {row.same_result} | {row.bound} | {row.fraction_of_bound:.1%} |")
    return "\n".join(lines)


def throughput_table(frame: pd.DataFrame) -> str:
    lines = ["| entry | task | runs: samples/s | speed row | speed: samples/s | difference | within 30% |",
             "|---|---|---|---|---|---|---|"]
    for row in frame.itertuples():
        lines.append(f"| `{row.method}` | {row.task} | {row.runs_samples_per_second:,.0f} | `{row.speed_row}` "
                     f"({row.speed_side}) | {row.speed_samples_per_second:,.0f} | {row.relative_difference:+.0%} | "
                     f"{'yes' if row.within_limit else 'no'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    print(accuracy_table(pd.read_csv(args.results / "per_method.csv"), pd.read_csv(args.results / "summary.csv")))
    print()
    print(reproduction_table(pd.read_csv(args.results / "reproduction.csv")))
    speed = args.results / "speed.csv"
    if speed.exists():
        print()
        print(speed_table(pd.read_csv(speed)))
    check = args.results / "throughput_check.csv"
    if check.exists():
        print()
        print(throughput_table(pd.read_csv(check)))


if __name__ == "__main__":
    main()
