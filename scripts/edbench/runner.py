"""Run one (dataset, task, method, seed) job and write its result as one JSON file.

The result separates what must be identical on a rerun (``metrics``, ``config``, ``data``) from
what is measured and varies (``timing``).
"""
from __future__ import annotations

import logging
import math
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

from . import atomic, datasets, methods, provenance, tasks

log = logging.getLogger("edbench.run")
RESULT_SCHEMA = 1


_thread_limit: int | None = None


def limit_threads(threads: int):
    """Pin BLAS (and torch, if loaded) to ``threads`` so parallel jobs do not oversubscribe the cores.

    Torch is not imported here: it costs about 2 s, more than a whole gates job. The torch method
    applies the limit itself when it first imports torch (``thread_limit()``).
    """
    global _thread_limit
    from threadpoolctl import threadpool_limits

    _thread_limit = threads
    limiter = threadpool_limits(limits=threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    # numba's pool (the ED kernels spread networks over it) is sized when numba is first imported.
    if "numba" in sys.modules:
        numba = sys.modules["numba"]
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    else:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)
    return limiter


def _process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_limit() -> int | None:
    """The limit last set by ``limit_threads`` in this process, if any."""
    return _thread_limit


def process_age_seconds() -> float:
    """Seconds since this process started: interpreter start-up and every import included."""
    try:   # Linux: the start time in clock ticks since boot, against the clock since boot
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        return time.clock_gettime(time.CLOCK_BOOTTIME) - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        import psutil  # elsewhere; its start time rests on a boot time rounded to the second

        return time.time() - psutil.Process().create_time()


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


def train_problem(problem: tasks.Problem, method_cls, params: dict, seed: int, epochs: int, label: str):
    method = method_cls(problem.n_inputs, problem.n_classes, params, seed)
    _mark_first_step()
    x_train = problem.x_train.astype(method.dtype)
    x_test = problem.x_test.astype(method.dtype)
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
        if not _finite(method, train_loss):
            diverged_epoch = epoch
            curve.append({"epoch": epoch, "train_loss": None, "test_accuracy": None})
            log.warning("%s: diverged at epoch %d (loss %s)", label, epoch, train_loss)
            break
        accuracy = float((method.predict(x_test) == problem.y_test).mean())
        curve.append({"epoch": epoch, "train_loss": float(train_loss), "test_accuracy": accuracy})
        remaining = wall / epoch * (epochs - epoch)
        log.info("%s: epoch %d/%d loss %.4f test acc %.4f (%.2fs elapsed, ~%.1fs left)",
                 label, epoch, epochs, train_loss, accuracy, wall, remaining)
    validation = None
    if problem.y_val is not None and diverged_epoch is None:
        validation = float((method.predict(problem.x_val.astype(method.dtype)) == problem.y_val).mean())
    return {"curve": curve, "wall": wall, "cpu": cpu, "epoch_seconds": epoch_seconds,
            "warmup_wall": warmup_wall, "warmup_cpu": warmup_cpu,
            "diverged_epoch": diverged_epoch, "params": method.params, "validation": validation}


def run(spec: dict) -> dict:
    """Train ``spec`` and return the result record."""
    started = time.time()
    global _runs_begun, _run_began_at, _first_step_at
    now = time.perf_counter()
    _run_began_at = now - process_age_seconds() if _runs_begun == 0 else now
    _runs_begun += 1
    _first_step_at = None
    method_cls = methods.get(spec["method"])
    task_params = spec["task_params"]
    if spec["task"] == "gates":
        arrays, data = None, {"name": "truth_tables", "source": ["edbench.tasks"], "sha256": None,
                               "train_count": 16, "test_count": 16}
    else:
        data = spec["data"]
        arrays = datasets.load(Path(spec["data_npz"]), data.get("file_sha256"))
    task = tasks.build(spec["task"], arrays, task_params.get("train_size"), task_params.get("test_size"),
                       task_params.get("validation_size", 0))
    epochs = int(task_params["epochs"])
    outcomes = []
    for problem in task.problems:
        label = f"{spec['task']}/{problem.name}/{spec['entry']}/seed{spec['seed']}"
        outcomes.append(train_problem(problem, method_cls, spec["params"], spec["seed"], epochs, label))

    diverged = [o["diverged_epoch"] for o in outcomes if o["diverged_epoch"] is not None]
    per_problem = {}
    for problem, outcome in zip(task.problems, outcomes):
        last = outcome["curve"][-1]
        per_problem[problem.name] = last["test_accuracy"]
    curve = []
    for epoch in range(1, max(len(o["curve"]) for o in outcomes) + 1):
        points = [o["curve"][epoch - 1] for o in outcomes if len(o["curve"]) >= epoch]
        losses = [p["train_loss"] for p in points]
        accs = [p["test_accuracy"] for p in points]
        curve.append({
            "epoch": epoch,
            "train_loss": None if None in losses else float(np.mean(losses)),
            "test_accuracy": None if None in accs else float(np.mean(accs)),
        })
    status = "diverged" if diverged else "ok"
    test_accuracy = None if diverged else float(np.mean(list(per_problem.values())))
    wall = sum(o["wall"] for o in outcomes)
    samples = sum(len(p.y_train) * len(o["curve"]) for p, o in zip(task.problems, outcomes))
    return {
        "schema": RESULT_SCHEMA,
        "key": {"dataset": spec["dataset"], "task": spec["task"], "entry": spec["entry"], "method": spec["method"],
                "seed": spec["seed"]},
        "status": status,
        "diverged_epoch": min(diverged) if diverged else None,
        "data": {**data, "task_train_count": task.train_count, "task_test_count": task.test_count},
        "config": {"params": outcomes[0]["params"], "task_params": task_params, "threads": spec["threads"]},
        "metrics": {
            "test_accuracy": test_accuracy,
            "final_train_loss": curve[-1]["train_loss"],
            "per_problem_accuracy": per_problem,
            "validation_accuracy": None if diverged or outcomes[0]["validation"] is None else float(
                np.mean([o["validation"] for o in outcomes])),
            "epochs_run": len(curve),
            "curve": curve,
        },
        "timing": {
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
            "seconds_per_epoch": wall / len(curve),
            "process_cpu_seconds": _process_cpu_seconds(),
            "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "epoch_seconds": [s for o in outcomes for s in o["epoch_seconds"]],
            # Unix times of the job's start and end: whether two timed jobs overlapped can be checked later
            "started": started,
            "finished": time.time(),
        },
        "provenance": provenance.environment(spec["threads"]),
    }


def run_to_file(spec: dict, out: Path) -> dict:
    limit_threads(spec["threads"])
    result = run(spec)
    atomic.write_json(out, result)
    return result
