"""Run one (dataset, task, method, seed) job and write its result as one JSON file.

The result separates what must be identical on a rerun (``metrics``, ``config``, ``data``) from
what is measured and varies (``timing``).
"""
from __future__ import annotations

import logging
import math
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edbench import atomic, methods, provenance, tasks, threads
from edbench.data import arrays as arrays_file
from edbench.methods.base import ConfigError
from edbench.spec import Budget, RunSpec

log = logging.getLogger("edbench.run")
RESULT_SCHEMA = 1


def _process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The first run of a process counts from the process start; a later one from its own start.
_runs_begun = 0
_run_began_at: float | None = None
_first_step_at: float | None = None


def _mark_first_step() -> None:
    global _first_step_at
    if _first_step_at is None:
        _first_step_at = time.perf_counter()


def _startup_seconds() -> float | None:
    if _first_step_at is None or _run_began_at is None:
        return None
    return _first_step_at - _run_began_at


def _finite(method: methods.LearningMethod, loss: float) -> bool:
    return math.isfinite(loss) and all(np.isfinite(a).all() for a in method.state().values())


def train_problem(problem: tasks.Problem, method_cls, params: dict, seed: int, epochs: int, label: str,
                  score_test: bool = True, diagnose: bool = False):
    """Train one problem; after every epoch score the validation split (if any) and, unless
    ``score_test`` is False (a search trial: its choice must not see test labels), the test set.
    With ``diagnose``, the method's diagnostics on the first 1,000 test images, before and after."""
    method = method_cls(problem.n_inputs, problem.n_classes, params, seed)
    _mark_first_step()
    x_train = problem.x_train.astype(method.dtype)
    x_train.setflags(write=False)   # unchangeable: a method may keep what it derives from it across epochs
    x_test = problem.x_test.astype(method.dtype) if score_test else None
    x_val = None if problem.y_val is None else problem.x_val.astype(method.dtype)
    diagnostics = {"start": method.diagnostics(x_test[:1000])} if diagnose and score_test else None
    wall0, cpu0 = time.perf_counter(), time.process_time()
    method.warm_up(x_train, problem.y_train)
    warmup_wall, warmup_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    curve, epoch_seconds = [], []
    wall = cpu = 0.0
    diverged_epoch = None
    for epoch in range(1, epochs + 1):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        train_loss = method.train_epoch(x_train, problem.y_train)
        wall_epoch = time.perf_counter() - wall0
        cpu += time.process_time() - cpu0
        wall += wall_epoch
        epoch_seconds.append(wall_epoch)
        point = {"epoch": epoch, "train_loss": None, "test_accuracy": None, "validation_accuracy": None,
                 "samples": epoch * len(problem.y_train)}
        if not _finite(method, train_loss):
            diverged_epoch = epoch
            curve.append(point)
            log.warning("%s: diverged at epoch %d (loss %s)", label, epoch, train_loss)
            break
        point["train_loss"] = float(train_loss)
        if score_test:
            point["test_accuracy"] = float((method.predict(x_test) == problem.y_test).mean())
        if x_val is not None:
            point["validation_accuracy"] = float((method.predict(x_val) == problem.y_val).mean())
        curve.append(point)
        remaining = wall / epoch * (epochs - epoch)
        log.info("%s: epoch %d/%d loss %.4f test acc %s validation acc %s (%.2fs elapsed, ~%.1fs left)",
                 label, epoch, epochs, train_loss, point["test_accuracy"], point["validation_accuracy"], wall,
                 remaining)
    validation = None if diverged_epoch is not None else curve[-1]["validation_accuracy"]
    if diagnostics is not None and diverged_epoch is None:
        diagnostics["end"] = method.diagnostics(x_test[:1000])
    return {"diagnostics": diagnostics, "curve": curve, "wall": wall, "cpu": cpu, "epoch_seconds": epoch_seconds,
            "warmup_wall": warmup_wall, "warmup_cpu": warmup_cpu,
            "diverged_epoch": diverged_epoch, "params": method.params, "validation": validation}


def _mean_or_none(values):
    return None if None in values else float(np.mean(values))


@dataclass(frozen=True)
class DataFile:
    """A data set's arrays file and the provenance record its fetch wrote."""
    arrays: Path
    provenance: dict


@dataclass(frozen=True)
class Built:
    """What a run trains: its method, the task's problems, the record of their data, and its params."""
    method_cls: type[methods.LearningMethod]
    problems: tasks.ProblemSet
    data: dict
    params: dict
    choice: dict | None   # a race winner's: the trials and the one chosen
    budget: Budget        # the spec's, with the epochs a compute budget gives (``compute_epochs``)
    weights: int | None   # with a compute budget: the weights it is counted in


def choose_tuned_params(spec: RunSpec, problems: tasks.ProblemSet) -> tuple[dict, dict | None]:
    """A race winner's or promoted run's params: its candidate on validation (``spec.trials``, result
    files: the best for a winner, the one at ``spec.rank`` for a promoted run), or the declared
    params where none is eligible; other runs keep their own. Also the record of the choice."""
    if not spec.trials:
        return spec.params, None
    from edbench.race import choice

    first = problems.problems[0]

    def size_of(params: dict, trained_by: str) -> int:
        learner = methods.get(trained_by)(first.n_inputs, first.n_classes, params, seed=0)
        return int(sum(array.size for array in learner.state().values()))

    records = choice.trial_records(list(spec.trials), methods.get(spec.chosen_for or spec.method),
                                   spec.max_hidden_cells)
    for record in records:
        record["size"] = size_of(record["params"], record["trained_by"])
    chosen, reason = choice.choose(records, spec.tie_margin, spec.rank or 0)
    params = spec.params if chosen is None else {**spec.params, **records[chosen]["params"]}
    return params, {"stage": spec.stage, "trials": records, "chosen_trial": chosen, "reason": reason,
                    "rank": spec.rank, "targets": list(spec.targets), "space": spec.space,
                    "tie_margin": spec.tie_margin, "max_hidden_cells": spec.max_hidden_cells}


def run(spec: RunSpec, data: DataFile | None = None, placement: threads.Placement = threads.AS_ASKED) -> dict:
    """Train ``spec`` (on ``data``, if its task reads a data set) and return the result record;
    ``placement`` is what its process was given to run on, recorded in its provenance."""
    started = time.time()
    global _runs_begun, _run_began_at, _first_step_at
    now = time.perf_counter()
    # the first run counts from the process start, less the time its process waited for cores
    _run_began_at = now - provenance.process_age_seconds() + placement.waited_seconds if _runs_begun == 0 else now
    _runs_begun += 1
    _first_step_at = None
    built = build(spec, data)
    return record(spec, built, train(spec, built), started, placement)


def build(spec: RunSpec, data: DataFile | None) -> Built:
    """Everything a run needs before its first step: the method, the task's problems built from
    their data, and the params (a race winner's chosen from its trials)."""
    method_cls = methods.get(spec.method)
    task = tasks.get(spec.task)
    if task.reads_data:
        if data is None:
            raise ConfigError(f"task {spec.task} reads the data set {spec.dataset}: give its arrays file and "
                              f"provenance (train.py's --data-npz and --data-provenance)")
        arrays = arrays_file.load(Path(data.arrays), data.provenance.get("file_sha256"))
        record_of_data = data.provenance
    else:
        arrays, record_of_data = None, task.own_data
    budget = spec.budget
    problems = task.build(arrays, budget.train_size, budget.test_size, budget.held_out, budget.split)
    params, choice = choose_tuned_params(spec, problems)
    epochs, weights = compute_epochs(spec, method_cls, problems, params)
    return Built(method_cls, problems, record_of_data, params, choice, budget.overridden({"epochs": epochs}),
                 weights)


def compute_epochs(spec: RunSpec, method_cls, problems: tasks.ProblemSet, params: dict) -> tuple[int, int | None]:
    """The spec's epochs; or, where it sets a compute budget (``weight_passes``: the weights, of all
    the method's networks, times the training samples they see), the epochs that spend it, at least
    one, and the weights it is counted in."""
    if spec.weight_passes is None:
        return spec.budget.epochs, None
    first = problems.problems[0]
    weights = sum(array.size for array in method_cls(first.n_inputs, first.n_classes, params, 0).state().values())
    return max(1, round(spec.weight_passes / (weights * problems.train_count))), weights


def train(spec: RunSpec, built: Built) -> list[dict]:
    """Each problem of the run trained in turn: one outcome each (see ``train_problem``)."""
    return [train_problem(problem, built.method_cls, built.params, spec.seed, built.budget.epochs,
                          f"{spec.task}/{problem.name}/{spec.entry}/seed{spec.seed}", spec.scores_test,
                          spec.diagnose)
            for problem in built.problems.problems]


def _combined_curve(outcomes: list[dict]) -> tuple[list[dict], list[float]]:
    """The run's curve, each epoch averaged over the problems that reached it, and the training
    seconds of all problems by the end of each epoch."""
    curve, seconds_by_epoch = [], []
    for epoch in range(1, max(len(o["curve"]) for o in outcomes) + 1):
        points = [o["curve"][epoch - 1] for o in outcomes if len(o["curve"]) >= epoch]
        curve.append({"epoch": epoch, **{key: _mean_or_none([p[key] for p in points])
                                         for key in ("train_loss", "test_accuracy", "validation_accuracy")},
                      # the problems of a task train one after another: their samples add up
                      "samples": int(sum(p["samples"] for p in points))})
        seconds_by_epoch.append(float(sum(sum(o["epoch_seconds"][:epoch]) for o in outcomes)))
    return curve, seconds_by_epoch


def record(spec: RunSpec, built: Built, outcomes: list[dict], started: float,
           placement: threads.Placement = threads.AS_ASKED) -> dict:
    """The result of a run: what must be identical on a rerun (key, data, config, metrics, the race's
    choice), what was measured (timing, with the cores its process claimed) and where (provenance,
    with the threads it ran on and those it asked for and was granted)."""
    problems = built.problems
    diverged = [o["diverged_epoch"] for o in outcomes if o["diverged_epoch"] is not None]
    per_problem = {problem.name: outcome["curve"][-1]["test_accuracy"]
                   for problem, outcome in zip(problems.problems, outcomes)}
    curve, seconds_by_epoch = _combined_curve(outcomes)
    test_accuracy = None if diverged or not spec.scores_test else float(np.mean(list(per_problem.values())))
    return {
        "schema": RESULT_SCHEMA,
        "key": {"dataset": spec.dataset, "task": spec.task, "entry": spec.entry, "method": spec.method,
                "seed": spec.seed, "role": spec.role, "contestant": spec.contestant, "trial": spec.trial,
                "stage": spec.stage},
        "status": "diverged" if diverged else "ok",
        "diverged_epoch": min(diverged) if diverged else None,
        "data": {**built.data, "task_train_count": problems.train_count, "task_test_count": problems.test_count},
        "config": {"params": outcomes[0]["params"], "task_params": built.budget.to_dict(), "threads": spec.threads,
                   "capped": list(spec.capped),
                   **({"weights": built.weights, "weight_passes": spec.weight_passes} if built.weights else {})},
        "race": built.choice,
        "metrics": {
            "test_accuracy": test_accuracy,
            "final_train_loss": curve[-1]["train_loss"],
            "per_problem_accuracy": per_problem,
            "validation_accuracy": None if diverged or outcomes[0]["validation"] is None else float(
                np.mean([o["validation"] for o in outcomes])),
            "epochs_run": len(curve),
            "curve": curve,
            **({"diagnostics": outcomes[0]["diagnostics"]} if spec.diagnose else {}),
        },
        "timing": {**_timing(problems, outcomes, len(curve), seconds_by_epoch, started),
                   "cores": placement.cores_record()},
        "provenance": {**provenance.environment(placement.threads_for(spec.threads)),
                       **placement.record(spec.threads)},
    }


def _timing(problems: tasks.ProblemSet, outcomes: list[dict], epochs_run: int, seconds_by_epoch: list[float],
            started: float) -> dict:
    wall = sum(o["wall"] for o in outcomes)
    samples = sum(len(p.y_train) * len(o["curve"]) for p, o in zip(problems.problems, outcomes))
    return {
        # one-time costs (compilation, cache load, first-call set-up), apart from the steady state
        "warmup_seconds": sum(o["warmup_wall"] for o in outcomes),
        "warmup_cpu_seconds": sum(o["warmup_cpu"] for o in outcomes),
        # process start (or this run's start, after the first run of a process) to the first
        # training step: interpreter, imports, data load, task and method set-up
        "startup_seconds": _startup_seconds(),
        "startup_counts_from": "process start" if _runs_begun == 1 else "run start",
        "train_seconds": wall,
        "train_cpu_seconds": sum(o["cpu"] for o in outcomes),
        "samples_per_second": samples / wall if wall > 0 else None,
        "seconds_per_epoch": wall / epochs_run,
        "process_cpu_seconds": _process_cpu_seconds(),
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "epoch_seconds": [s for o in outcomes for s in o["epoch_seconds"]],
        # training seconds by the end of each epoch of the curve (time-to-target reads them)
        "cumulative_seconds": seconds_by_epoch,
        # Unix times of the job's start and end: whether two timed jobs overlapped can be checked later
        "started": started,
        "finished": time.time(),
    }


def run_to_file(spec: RunSpec, out: Path, data: DataFile | None = None,
                placement: threads.Placement = threads.AS_ASKED) -> dict:
    """Train ``spec`` on the threads ``placement`` allows it and write its result to ``out``."""
    placement.warn_if_clamped(spec.threads, f"{spec.task}/{spec.entry}/seed{spec.seed}")
    threads.limit(placement.threads_for(spec.threads))
    result = run(spec, data, placement)
    atomic.write_json(out, result)
    return result
