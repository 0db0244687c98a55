"""The documents' tables in Markdown, computed from a results folder, never typed in: the README's
verdict per data set and budget; in docs/results.md the race, the protocols' accuracy, the claims
beside ours, the binding edges of the searches, the speed table and the throughput check; in
docs/deep_ed.md the deep-ED study."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

# Where a document holds a table: the table sits between its two markers, blank lines around it.
MARKED_TABLE = re.compile(r"<!-- TABLE (\w+) -->\n.*?<!-- /TABLE -->", re.S)

# The accuracy table's columns, in this order.
TASKS = ["gates", "mnist01", "mnist10", "fashion10"]


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table: the header, its rule, then one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def percent(value) -> str:
    return "" if pd.isna(value) else f"{value * 100:.1f}%"


def race_table(headline: pd.DataFrame, targets: pd.DataFrame) -> str:
    """The tuned race: per method and task, test accuracy (95% CI over seeds), median training time,
    and the median time to each validation target (seeds that reached it / seeds)."""
    rows = []
    for row in headline.itertuples():
        reach = targets[(targets["task"] == row.task) & (targets["contestant"] == row.contestant)
                        & (targets["dataset"] == row.dataset)]
        times = []
        for hit in reach.itertuples():
            when = "never" if hit.reached == 0 else f"{hit.median_seconds:.3g} s"
            times.append(f"≥{hit.target:g}: {when} ({hit.reached}/{hit.seeds})")
        interval = "" if pd.isna(row.test_accuracy_ci95_low) else \
            f" ({row.test_accuracy_ci95_low * 100:.1f}–{row.test_accuracy_ci95_high * 100:.1f})"
        note = row.note if isinstance(row.note, str) else ""
        rows.append([row.task, f"`{row.contestant}`", percent(row.test_accuracy_mean) + interval,
                     f"{row.train_seconds_median:.3g}", f"{row.train_count:,} × {row.epochs}", "; ".join(times),
                     row.runs, note])
    return table(["task", "method", "test acc (95% CI)", "train s (median)", "examples × epochs",
                     "time to validation target (median; seeds reached)", "seeds", "note"], rows)


def accuracy_table(per_method: pd.DataFrame, summary: pd.DataFrame) -> str:
    threads = summary.groupby("method")["threads"].max()
    rows = []
    for method, group in per_method.groupby("method", sort=False):
        if "." in method or method.startswith("tuned-"):   # sweeps: per_method.md; the race: race_table
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
        rate = f"{by_task.loc['mnist10', 'samples_per_second_mean']:,.0f}" if "mnist10" in by_task.index else ""
        rows.append([f"`{method}`", *cells, rate, threads.get(method, ""), int(group["runs"].max())])
    return table(["entry", *(f"{t} acc" for t in TASKS), "mnist10 samples/s", "threads", "seeds"], rows)


def reproduction_table(frame: pd.DataFrame) -> str:
    def show(value, unit):
        if pd.isna(value):
            return "not run"
        return f"{value * 100:.2f}%" if unit == "fraction" else f"{value:,.3g}"

    rows = []
    for row in frame.itertuples():
        article = row.paper_text if isinstance(row.paper_text, str) and row.paper_text else \
            show(row.paper_value, row.unit)
        differs = "" if pd.isna(row.protocol_differences) else row.protocol_differences
        rows.append([row.source, row.claim, article, show(row.our_value, row.unit), row.protocol_matches, differs])
    return table(["source", "claim", "article", "ours", "protocol matches", "what differs"], rows)


def speed_table(frame: pd.DataFrame) -> str:
    rows = [[f"`{r.comparison}`", f"{r.baseline_per_s:,.0f}", f"{r.candidate_per_s:,.0f}", ratio(r),
             "" if pd.isna(r.floor) else f"≥ {r.floor:g} ({'met' if r.floor_met else 'missed'})", r.same_result,
             r.bound, f"{r.fraction_of_bound:.1%}", other_load(r)] for r in frame.itertuples()]
    return table(["comparison", "baseline/s", "candidate/s", "ratio", "floor", "same result", "bound", "of bound",
                     "other load (cores)"], rows)


def ratio(row) -> str:
    """The ratio, and where a row was measured several times the lowest and highest draw."""
    measurements = getattr(row, "measurements", 1)
    if pd.isna(measurements) or int(measurements) <= 1:
        return f"{row.ratio:.2f}"
    return f"{row.ratio:.2f} ({row.ratio_low:.2f}–{row.ratio_high:.2f} in {int(measurements)})"


def other_load(row) -> str:
    """Other work on the machine during the row's timed rounds, and the tries it took to get it low."""
    cores = getattr(row, "other_load_cores", None)
    if cores is None or pd.isna(cores):
        return "not checked"
    attempts = int(getattr(row, "attempts", 1))
    return f"{cores:.2f}" + (f" ({attempts} tries)" if attempts > 1 else "")


def throughput_table(frame: pd.DataFrame) -> str:
    rows = [[f"`{r.method}`", r.task, f"{r.runs_samples_per_second:,.0f}", f"`{r.speed_row}` ({r.speed_side})",
             f"{r.speed_samples_per_second:,.0f}", f"{r.relative_difference:+.0%}", "yes" if r.within_limit else "no"]
            for r in frame.itertuples()]
    return table(["entry", "task", "runs: samples/s", "speed row", "speed: samples/s", "difference", "within 30%"],
                    rows)


def gap_table(gap: pd.DataFrame) -> str:
    """Per data set and budget, the best ED winner against the best backprop winner (chosen on
    validation): test accuracy with its 95% interval (to two decimals, the differences being tenths
    of a point; an interval ends at 0% and 100%), and the difference with its interval."""
    def accuracy(mean, low, high):
        return f"{mean * 100:.2f}% ({max(low, 0) * 100:.2f}–{min(high, 1) * 100:.2f})"

    rows = []
    for row in gap.drop_duplicates(["dataset", "task", "budget"]).itertuples():
        rows.append([row.task, row.budget,
                     f"`{row.ed}` {accuracy(row.ed_test_accuracy, row.ed_low, row.ed_high)}",
                     f"`{row.backprop}` {accuracy(row.backprop_test_accuracy, row.backprop_low, row.backprop_high)}",
                     f"{row.difference * 100:+.2f} "
                     f"({row.difference_low * 100:+.2f} to {row.difference_high * 100:+.2f})"])
    return table(["task", "budget", "best ED, test % (95% interval)", "best backprop, test % (95% interval)",
                  "ED − backprop, points (95% interval)"], rows)


def verdicts(gap: pd.DataFrame) -> str:
    """gap.csv's verdict sentence for each data set and budget, as a list."""
    return "\n".join(f"- **{row.task}, {row.budget} budget.** {row.verdict}"
                     for row in gap.drop_duplicates(["dataset", "task", "budget"]).itertuples())


def edges_table(edges: pd.DataFrame) -> str:
    """Every winner's searched dimension whose chosen value sits at an edge of its space (or outside
    it); an empty cell, an unordered choice or a fixed value is no edge."""
    rows = [[r.task, r.budget, f"`{r.contestant}`", r.parameter, r.value, r.at_edge,
             "" if pd.isna(r.position) else f"{r.position:.2f}"]
            for r in edges[edges["at_edge"].isin(["low", "high", "outside"])].itertuples()]
    if not rows:
        return "No winner's value sits at an edge of its search space."
    return table(["task", "budget", "winner", "dimension", "value", "edge", "position (0 low, 1 high)"], rows)


def deep_ed_table(study: pd.DataFrame) -> str:
    """The deep-ED study: per setting at one compute budget, the epochs it bought, test accuracy and
    whether the input still reaches the output before and after training."""
    rows = [[r.depth, r.width, r.batch_size, f"{r.u0:g}", r.epochs, "" if pd.isna(r.weights) else f"{int(r.weights):,}",
             percent(r.test_accuracy_mean), f"{r.output_spread_start:.2g}", f"{r.output_spread_end:.2g}",
             f"{r.constant_networks_end:.0%}", f"{r.train_seconds_median:.3g}"] for r in study.itertuples()]
    return table(["depth", "width", "batch", "u0", "epochs", "weights", "test acc", "output spread before",
                  "after", "constant networks after", "train s"], rows)


def cost_table(summary: pd.DataFrame, usage: dict) -> str:
    """What making the results cost: each recorded workflow run's wall time on the cores it was
    given and the main Snakemake process's own CPU (a share of one core), then every run's own
    seconds (start-up, warm-up and training) laid end to end, which is what one job at a time needs."""
    rows = [[f"`snakemake {r['command']}`", r["jobs"], r["cores"], f"{r['wall_seconds'] / 3600:.2f} h",
             f"{r['share_of_a_core']:.1%}"] for r in usage["runs"]]
    own = summary[["startup_seconds", "warmup_seconds", "train_seconds"]].fillna(0).to_numpy().sum()
    rows.append([f"the {len(summary):,} runs' own time, end to end", "", 1, f"{own / 3600:.2f} h", ""])
    return table(["workflow run", "jobs", "cores", "wall time", "Snakemake's own CPU (share of a core)"], rows)


def document_tables(results: Path) -> dict[str, dict[str, str]]:
    """Each document's tables by name, computed from ``results``, in the document's order (a table
    whose file ``results`` lacks is left out; without a gap table the README leads with the race)."""
    def read(name):
        path = results / name
        return pd.read_csv(path) if path.exists() else None

    gap, headline, edges, study = read("gap.csv"), read("headline.csv"), read("search_edges.csv"), \
        read("deep_ed_study.csv")
    speed, check, summary = read("speed.csv"), read("throughput_check.csv"), read("summary.csv")
    race = race_table(headline, read("time_to_target.csv")) if headline is not None else None
    readme = {"gap": gap_table(gap), "verdicts": verdicts(gap)} if gap is not None and len(gap) else \
        ({"race": race} if race else {})
    usage = results / "snakemake_usage.json"
    if usage.exists() and readme:
        readme["cost"] = cost_table(summary, json.loads(usage.read_text()))
    results_doc = {"race": race} if race and "race" not in readme else {}
    results_doc |= {"protocols": accuracy_table(read("per_method.csv"), summary),
                    "claims": reproduction_table(read("reproduction.csv"))}
    if edges is not None:
        results_doc["edges"] = edges_table(edges)
    if speed is not None:
        results_doc["speed"] = speed_table(speed)
    if check is not None:
        results_doc["throughput"] = throughput_table(check)
    deep = {"study": deep_ed_table(study)} if study is not None and len(study) else {}
    return {"README.md": readme, "docs/results.md": results_doc, "docs/deep_ed.md": deep}


def fill(text: str, tables: dict[str, str], document: str = "the document") -> str:
    """``text`` with each marked table replaced by the table of that name. Raises ValueError naming
    the tables the document has no marker for, and the markers no table is computed for."""
    marked = MARKED_TABLE.findall(text)
    unmarked, unknown = sorted(set(tables) - set(marked)), sorted(set(marked) - set(tables))
    if unmarked or unknown:
        raise ValueError(f"{document}: no marker for the tables {unmarked}; markers without a computed table "
                         f"{unknown} (a table is written as <!-- TABLE name -->, the table, <!-- /TABLE -->)")
    return MARKED_TABLE.sub(lambda match: f"<!-- TABLE {match[1]} -->\n\n{tables[match[1]]}\n\n<!-- /TABLE -->",
                            text)
