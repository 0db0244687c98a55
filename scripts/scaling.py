"""How a config scales: jobs, CPU-hours, fixed cost per job, and a projected wall time on N nodes.

Job counts come from a Snakemake dry run of each config; each run's cost from measured results
(run JSONs: start-up plus warm-up plus training; or a summary.csv, whose runs get the median
start-up of their method from the run JSONs). The projection for N nodes of C cores is

    wall(N) = max(longest job, sum over jobs of (cost + overhead) / (N * C)) + overhead

where `overhead` is the scheduler's cost per job (submission, queueing, two Snakemake start-ups
on SLURM), measured by tests/test_slurm.py as (SLURM wall - local wall) * cores / SLURM jobs.

    python scripts/scaling.py --config config/smoke.yaml --runs results/runs \\
        --config config/config.yaml --summary results/reference/summary.csv --overhead 6
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import _cli  # noqa: F401  (import path)


def dry_run_jobs(configfile: str) -> dict[str, int]:
    """Jobs per rule, from `snakemake -n` (rules named train_batch_* are counted as train_batch)."""
    done = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--forceall", "--configfile", configfile],
                          capture_output=True, text=True, check=True)
    counts: dict[str, int] = {}
    for rule, count in re.findall(r"^([A-Za-z_][\w]*)\s+(\d+)$", done.stdout, re.MULTILINE):
        if rule != "total":
            name = "train_batch" if rule.startswith("train_batch_") else rule
            counts[name] = counts.get(name, 0) + int(count)
    return counts


def measured_runs(runs_dir: Path) -> dict[tuple, dict]:
    """(dataset, task, entry, seed) -> the timing of every run JSON under ``runs_dir``."""
    found = {}
    for path in runs_dir.rglob("*.json"):
        record = json.loads(path.read_text())
        key = record["key"]
        found[(path.parts[-4], key["task"], key["entry"], key["seed"])] = {
            "method": key["method"], **record["timing"]}
    return found


def run_costs(configfile: str, runs: dict, summary: Path | None) -> tuple[list[float], list[str]]:
    """Seconds per run of ``configfile`` (start-up + warm-up + training) and the runs not measured."""
    import pandas as pd
    import yaml

    from edbench import config as edconfig

    startup_by_method: dict[str, list[float]] = {}
    for timing in runs.values():
        if timing.get("startup_seconds") is not None:
            startup_by_method.setdefault(timing["method"], []).append(timing["startup_seconds"])
    startup = {method: statistics.median(values) for method, values in startup_by_method.items()}
    trained = {}
    if summary is not None:
        table = pd.read_csv(summary)
        for row in table.itertuples():
            trained[(row.config_dataset, row.task, row.method, row.seed)] = (row.train_seconds, row.implementation)
    costs, missing = [], []
    for spec in edconfig.expand(edconfig.validate(yaml.safe_load(Path(configfile).read_text()))):
        key = (spec["dataset"], spec["task"], spec["entry"], spec["seed"])
        if key in trained and spec["method"] in startup:
            seconds, method = trained[key]
            costs.append(seconds + startup[method])
        elif key in runs and runs[key].get("startup_seconds") is not None:
            timing = runs[key]
            costs.append(timing["startup_seconds"] + (timing.get("warmup_seconds") or 0) + timing["train_seconds"])
        else:
            missing.append("/".join(map(str, key)))
    return costs, missing


def batched_job_costs(configfile: str, costs: list[float]) -> list[float]:
    """Per scheduler job: a batch sums its runs' costs (the same dealing as workflow/rules/common.smk)."""
    import yaml

    runs_per_job = yaml.safe_load(Path(configfile).read_text()).get("runs_per_job", {})
    if not runs_per_job:
        return costs
    size = max(runs_per_job.values())   # an approximation: the largest batch size for every run
    count = -(-len(costs) // size)
    return [sum(costs[i::count]) for i in range(count)]


def project(job_costs: list[float], overhead: float, cores: int, nodes: int) -> float:
    total = sum(cost + overhead for cost in job_costs)
    return max(max(job_costs) + overhead, total / (nodes * cores)) + overhead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", action="append", required=True, help="a config; repeat for several")
    parser.add_argument("--runs", type=Path, default=Path("results/runs"), help="run JSONs measured here")
    parser.add_argument("--summary", type=Path, help="a summary.csv of measured training times (e.g. the reference)")
    parser.add_argument("--overhead", type=float, required=True, help="scheduler seconds per job (see above)")
    parser.add_argument("--cores-per-node", type=int, default=2)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 4, 16, 64])
    args = parser.parse_args()
    runs = measured_runs(args.runs)
    header = ["config", "jobs (dry run)", "training runs", "CPU-hours", "median fixed s/job"]
    header += [f"SLURM {n}x{args.cores_per_node} cores" for n in args.nodes]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for configfile in args.config:
        jobs = dry_run_jobs(configfile)
        costs, missing = run_costs(configfile, runs, args.summary)
        if missing:
            print(f"{configfile}: {len(missing)} runs not measured, e.g. {missing[:3]}", file=sys.stderr)
        fixed = [t["startup_seconds"] for t in runs.values() if t.get("startup_seconds") is not None]
        job_costs = batched_job_costs(configfile, costs)
        cells = [configfile, str(sum(jobs.values())), str(len(costs) + len(missing)),
                 f"{sum(costs) / 3600:.3f}" + (" (partial)" if missing else ""),
                 f"{statistics.median(fixed):.2f}" if fixed else "not measured"]
        cells += [f"{project(job_costs, args.overhead, args.cores_per_node, n) / 60:.1f} min" for n in args.nodes]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
