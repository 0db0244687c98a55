"""How a config scales: jobs, CPU-hours, fixed cost per job, and a projected wall time on N nodes.

Job counts come from a Snakemake dry run of each config; each run's cost from measured results
(run JSONs: start-up plus warm-up plus training; or a summary.csv, whose runs get the median
start-up of their method from the run JSONs). The projection for N nodes of C cores is

    wall(N) = max(longest job, sum over jobs of (cost + overhead) / (N * C)) + overhead

where `overhead` is the scheduler's cost per job (submission, queueing, two Snakemake start-ups
on SLURM), measured by tests/test_slurm.py as (SLURM wall - local wall) * cores / SLURM jobs.

    python scripts/scaling.py --runs results/runs --overhead 5.4 \\
        --config config/smoke.yaml --config config/config.yaml=results/reference/summary.csv

A run JSON counts for a config's run only if it was trained with that run's settings; a
summary.csv given after `=` counts for that config only (its rows carry no settings).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path


def dry_run_jobs(configfile: str) -> dict[str, int]:
    """Jobs per rule, from `snakemake -n` (rules named train_batch_* are counted as train_batch)."""
    done = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--forceall", "--configfile", configfile],
                          capture_output=True, text=True, check=True)
    counts: dict[str, int] = {}
    first_table = done.stdout.split("Job stats:")[1].split("total")[0]   # it is printed twice
    for rule, count in re.findall(r"^([A-Za-z_][\w]*)\s+(\d+)$", first_table, re.MULTILINE):
        if rule != "all":   # a target rule: no process, no cluster job
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
            "method": key["method"], "config": record["config"], **record["timing"]}
    return found


def run_costs(configfile: str, runs: dict, summary: Path | None) -> tuple[dict, dict, list[str]]:
    """Seconds per run of ``configfile`` past the process start-up: the method's own set-up (its
    start-up when it is not the first run of a process: imports such as torch, data, kernels),
    warm-up and training, by result path; the measured runs' specs by result path; and the runs
    not measured."""
    import pandas as pd

    from edbench import config as edconfig

    in_batch: dict[str, list[float]] = {}
    for timing in runs.values():
        if timing.get("startup_counts_from") == "run start":
            in_batch.setdefault(timing["method"], []).append(timing["startup_seconds"])
    # a method only ever measured first in its process: its set-up is inside the process start-up
    setup = {timing["method"]: 0.0 for timing in runs.values() if timing.get("startup_seconds") is not None}
    setup.update({method: statistics.median(values) for method, values in in_batch.items()})
    trained = {}
    if summary is not None:
        for row in pd.read_csv(summary).itertuples():
            trained[(row.config_dataset, row.task, row.method, row.seed)] = row.train_seconds
    costs, specs, missing = {}, {}, []
    for spec in edconfig.expand(edconfig.load(configfile)):
        key, path = (spec.dataset, spec.task, spec.entry, spec.seed), spec.result_path()
        if key in trained and spec.method in setup:
            costs[path] = trained[key] + setup[spec.method]
        elif key in runs and runs[key].get("startup_counts_from") == "run start" and same_settings(spec, runs[key]):
            timing = runs[key]
            costs[path] = timing["startup_seconds"] + (timing.get("warmup_seconds") or 0) + timing["train_seconds"]
        elif key in runs and same_settings(spec, runs[key]) and spec.method in setup:
            timing = runs[key]
            costs[path] = setup[spec.method] + (timing.get("warmup_seconds") or 0) + timing["train_seconds"]
        else:
            missing.append("/".join(map(str, key)))
            continue
        specs[path] = spec
    return costs, specs, missing


def process_fixed_seconds(runs: dict) -> float | None:
    """A process's own start-up (interpreter, imports, data), without what its first method adds."""
    in_batch: dict[str, list[float]] = {}
    for timing in runs.values():
        if timing.get("startup_counts_from") == "run start":
            in_batch.setdefault(timing["method"], []).append(timing["startup_seconds"])
    first = [t["startup_seconds"] - statistics.median(in_batch.get(t["method"], [0.0]))
             for t in runs.values() if t.get("startup_counts_from") == "process start"]
    return statistics.median(first) if first else None


def same_settings(spec, measured: dict) -> bool:
    """Trained with ``spec``'s (a RunSpec's) settings; a race winner's params are chosen when it
    runs, so only its budget can be compared."""
    params = measured["config"]["params"]
    return (measured["config"]["task_params"] == spec.budget.to_dict()
            and (bool(spec.trials) or all(params.get(k) == v for k, v in spec.params.items())))


def job_costs(configfile: str, costs: dict, specs: dict, process_fixed: float) -> list[float]:
    """Per job: one process start-up plus its runs, batched as the workflow batches them
    (edbench.batching) among the measured runs."""
    import yaml

    from edbench import batching

    runs_per_job = yaml.safe_load(Path(configfile).read_text()).get("runs_per_job", {})
    batches = list(batching.plan(specs, runs_per_job).values())
    batched = {path for paths in batches for path in paths}
    batches += [[path] for path in costs if path not in batched]
    return [process_fixed + sum(costs[path] for path in paths) for paths in batches]


def project(job_costs: list[float], overhead: float, cores: int, nodes: int) -> float:
    total = sum(cost + overhead for cost in job_costs)
    return max(max(job_costs) + overhead, total / (nodes * cores)) + overhead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", action="append", required=True,
                        help="CONFIG or CONFIG=SUMMARY_CSV (training times measured for it); repeat for several")
    parser.add_argument("--runs", type=Path, default=Path("results/runs"), help="run JSONs measured here")
    parser.add_argument("--overhead", type=float, required=True, help="scheduler seconds per job (see above)")
    parser.add_argument("--cores-per-node", type=int, default=2)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 4, 16, 64])
    args = parser.parse_args()
    runs = measured_runs(args.runs)
    header = ["config", "jobs (dry run)", "training runs", "training CPU-hours", "fixed s per process",
              f"training on {args.cores_per_node} local cores (est.)"]
    header += [f"SLURM {n}x{args.cores_per_node} cores" for n in args.nodes]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for argument in args.config:
        configfile, _, summary = argument.partition("=")
        jobs = dry_run_jobs(configfile)
        costs, specs, missing = run_costs(configfile, runs, Path(summary) if summary else None)
        if missing:
            print(f"{configfile}: {len(missing)} runs not measured, e.g. {missing[:3]}", file=sys.stderr)
        fixed = process_fixed_seconds(runs)
        jobs_seconds = job_costs(configfile, costs, specs, fixed or 0.0)
        cells = [configfile, str(sum(jobs.values())), str(len(costs) + len(missing)),
                 f"{sum(jobs_seconds) / 3600:.3f}" + (" (partial)" if missing else ""),
                 f"{fixed:.2f}" if fixed is not None else "not measured",
                 f"{project(jobs_seconds, 0.0, args.cores_per_node, 1) / 60:.1f} min"]
        cells += [f"{project(jobs_seconds, args.overhead, args.cores_per_node, n) / 60:.1f} min" for n in args.nodes]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
