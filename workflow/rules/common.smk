import json
import shlex
import sys
from pathlib import Path

from edbench import config as edconfig
from edbench import batching, provenance, scheduling, tasks
from edbench.report import run_files
from edbench.threads import shell_prefix as thread_variables

# The one validation of the config: the schema (its defaults filled in), then method names,
# parameters and sizes of every run, before any job is planned.
config = edconfig.validate(config)
# Tasks marked when_available (fashion10) run only where their data set is on this machine.
config, _left_out = edconfig.drop_unavailable(config)
for _line in _left_out:
    print(f"WARNING: {_line}", file=sys.stderr)
RUNS = {spec.result_path(): spec for spec in edconfig.expand(config)}


class DamagedFiles(Exception):
    """Files a run would reuse that cannot be read back, each named with the command that makes it again."""


# Damaged run files and data caches are named before any job is planned: a table job that met one
# would fail only after Snakemake had deleted the tables it was to replace, and a training job's
# failure would delete the runs of its batch. Cluster jobs parse this file again; the main
# process has checked.
if workflow.is_main_process:
    _damaged = run_files.damaged(RUNS) + run_files.damaged_caches(
        f"resources/data/{spec.dataset}.npz" for spec in RUNS.values() if tasks.get(spec.task).reads_data
    )
    if _damaged:
        raise DamagedFiles("\n".join(_damaged))
    # Snakemake's re-selection timers multiply while jobs wait for a timed_slot (edbench.scheduling).
    if not scheduling.keep_one_reevaluation_timer():
        print(
            "WARNING: this Snakemake has no re-selection timer to keep to one: its main process"
            " may take CPU from timed jobs (see docs/speed.md)",
            file=sys.stderr,
        )
TABLE_NAMES = [
    "summary.csv",
    "per_method.csv",
    "per_method.md",
    "curves.csv",
    "depth_sweep.csv",
    "best_settings.csv",
    "reproduction.csv",
    "data_provenance.csv",
    "throughput_check.csv",
    "time_to_target.csv",
    "headline.csv",
    "search_dimensions.csv",
    "search_edges.csv",
    "gap.csv",
    "deep_ed_study.csv",
]
REPORTED_TABLES = [
    "headline.csv",
    "gap.csv",
    "time_to_target.csv",
    "search_dimensions.csv",
    "per_method.csv",
    "reproduction.csv",
    "best_settings.csv",
    "data_provenance.csv",
    "throughput_check.csv",
]
TABLES = [f"results/tables/{name}" for name in TABLE_NAMES]
RACE_TASKS = [task for task in config.get("race", {}).get("tasks", {}) if task in config["tasks"]]
FIGURE_NAMES = [f"headline_{task}" for task in RACE_TASKS] + [
    "convergence",
    "gap",
    "time_to_target",
    "search",
    "accuracy_vs_time",
    "learning_curves",
    "time_per_method",
    "seed_protocols",
    "grids",
    "depth_sweep",
    "xor_convergence",
]
# The report's landing page (workflow/report/workflow.rst includes it): the verdicts, the headline
# figures and table, written with the figures.
LANDING_PAGE = "results/figures/answer.rst"
XOR_TABLE = "results/tables/xor_convergence.csv"
SPEED_TABLE = "results/tables/speed.csv"
SPEED_FIGURE = "results/figures/speed.png"
SPEED_BATCH_FIGURE = "results/figures/speed_by_batch.png"
SPEED_DATASET = config["datasets"][0]


def speed_results(wildcards=None):
    """The speed outputs, once `snakemake speed` has made them: tables and report then include them."""
    return [path for path in (SPEED_TABLE, SPEED_FIGURE, SPEED_BATCH_FIGURE) if Path(path).exists()]


FIGURES = [f"results/figures/{name}.png" for name in FIGURE_NAMES] + [LANDING_PAGE]


def caption(name):
    """The report caption of a table or figure; the per-task headline figures share one."""
    stem = name.split(".")[0]
    return f"../report/{'headline_figure' if stem.startswith('headline_') else stem}.rst"


wildcard_constraints:
    dataset=r"[a-z0-9_]+",
    task=r"[a-z0-9_]+",
    entry=r"[A-Za-z0-9_.\-]+",
    seed=r"\d+",


def run_spec(wildcards):
    path = f"results/runs/{wildcards.dataset}/{wildcards.task}/{wildcards.entry}/seed{wildcards.seed}.json"
    if path not in RUNS:
        raise ValueError(f"{path} is not part of this config's grid")
    return RUNS[path]


def data_files(spec):
    """The arrays file and provenance record of the data set a run reads (none for a task that reads none)."""
    if not tasks.get(spec.task).reads_data:
        return {}
    return {
        "npz": f"resources/data/{spec.dataset}.npz",
        "provenance": f"resources/data/{spec.dataset}.json",
    }


def data_arguments(files):
    """train.py's --data-npz and --data-provenance for ``data_files``."""
    return " ".join(f"--data-{key} {path}" for key, path in files.items())


def train_data(wildcards):
    """The data set, and for a race winner the trials its setting is chosen from."""
    spec = run_spec(wildcards)
    return {**data_files(spec), "trials": list(spec.trials)}


def entry_resources(key):
    """A run's mem_mb or runtime: its config entry's, or its task's default."""
    return lambda wildcards: getattr(run_spec(wildcards), key)


# Small runs train in batches (config `runs_per_job`; edbench.batching says which runs go
# together). A run's result does not depend on its batch (tests/test_batches.py). Changing the
# set of runs of a batched task may retrain that task's batches (cheap, by construction).
BATCHES = batching.plan(RUNS, config.get("runs_per_job", {}))
BATCHED_TASKS = sorted({RUNS[paths[0]].task for paths in BATCHES.values()})
# rule train makes every run that is not in a batch
UNBATCHED_TASK = "(?!(?:" + "|".join(BATCHED_TASKS) + ")$)[a-z0-9_]+" if BATCHED_TASKS else "[a-z0-9_]+"


def run_log(path):
    run = path.removeprefix("results/runs/").removesuffix(".json")
    return f"logs/train/{run}.log"


def batch_arguments(paths):
    """train.py's arguments for a batch: one --spec/--out/--log triple per run."""
    parts = []
    for path in paths:
        parts.append(f"--spec {shlex.quote(RUNS[path].to_json())} --out {path} --log {run_log(path)}")
    return " ".join(parts)


def batch_resources(paths):
    """A batch needs its largest run's memory and the sum of its runs' time."""
    return {
        "mem_mb": max(RUNS[p].mem_mb for p in paths),
        "runtime": sum(RUNS[p].runtime for p in paths),
    }


def batch_inputs(paths):
    """A batch's data set and the trials its race runs (if any) are chosen from in other jobs."""
    return {**data_files(RUNS[paths[0]]), "trials": batching.trials_from_other_jobs(paths, RUNS)}
