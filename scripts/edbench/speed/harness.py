"""The speed benchmark's driver: each implementation against its baseline, interleaved in one process.

Every comparison is data (``Comparison``, declared in ``catalog``): the workload both sides run, the
two implementations, the work per unit, and the tolerance within which both must compute the same
thing. One driver (``measure``) times both sides alternately after a warm-up under the workload's
thread settings, takes medians, and then checks the result: both sides are built afresh from one
seed, run the same work, and their weights or gradients are compared, so a speed-up never hides a
change of algorithm. A comparison without a tolerance reports ``same_result`` as "not checked".
A timing that other work on the machine disturbed is taken again (``least_disturbed``). The
machine's limits (``machine``) are measured before and after the rows, and each row gets its bound.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from edbench import threads as thread_settings
from edbench.speed import catalog, machine
from edbench.speed.comparison import Comparison, Workload
from edbench.speed.other_load import OtherLoad

NOT_CHECKED = "not checked"
# What each setting is when the config's speed section leaves it out.
DEFAULTS = {"repeats": 7, "fd_repeats": 3, "ed_neuron_samples": 16, "ed_matrix_samples": 512, "ed_deep_batches": 4,
            "backprop_samples": 1024, "fd_gates_hidden": 8, "seed001_naive_iterations": 20,
            "seed001_step_iterations": 500, "seed001_repeats": 3, "seed002_epochs": 100, "seed002_repeats": 3,
            "torch_batch_sizes": [32, 128, 512], "torch_threads": [1, 2], "torch_race_repeats": 3,
            "ed_parallel_samples": 2000, "ed_minibatch_samples": 2048,
            "torch_ed_online_samples": 1000, "torch_ed_batches": 8, "torch_ed_compile": 1,
            "measurements": 5, "attempts": 3, "disturbed_cores": 0.2}


@dataclass
class Side:
    """One side as the timer sees it: its name, one run of its work, and the units that run does."""
    name: str
    run: Callable[[], object]   # one unit of timed work
    work: float                 # units of work per run


class Timing(NamedTuple):
    """Seconds per run of both sides, interleaved."""
    baseline: float            # median
    candidate: float           # median
    candidate_fastest: float   # the candidate's fastest run


def interleaved(baseline: Side, candidate: Side, repeats: int, warmup: int = 1) -> Timing:
    """Median seconds per run of each side, alternating which goes first, and the candidate's fastest."""
    for _ in range(warmup):
        baseline.run()
        candidate.run()
    times = {baseline.name: [], candidate.name: []}
    for r in range(repeats):
        for side in ((baseline, candidate) if r % 2 == 0 else (candidate, baseline)):
            start = time.perf_counter()
            side.run()
            times[side.name].append(time.perf_counter() - start)
    return Timing(float(np.median(times[baseline.name])), float(np.median(times[candidate.name])),
                  min(times[candidate.name]))


def difference(kind: str, a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """``a`` against ``b`` over all their arrays: the largest absolute difference, or the norm of the
    difference relative to ``b``'s."""
    flat_a = np.concatenate([np.asarray(x, np.float64).ravel() for x in a])
    flat_b = np.concatenate([np.asarray(x, np.float64).ravel() for x in b])
    if kind == "max_abs":
        return float(np.abs(flat_a - flat_b).max())
    return float(np.linalg.norm(flat_a - flat_b) / np.linalg.norm(flat_b))


def least_disturbed(timed: Callable[[], Timing], attempts: int, disturbed_cores: float):
    """Run ``timed`` (both sides' rounds) until other work on the machine kept fewer than
    ``disturbed_cores`` cores busy meanwhile, at most ``attempts`` times: the first undisturbed
    attempt is kept, or if none was, the one with the least other load. Gives its times, its
    ``OtherLoad`` and the number of attempts made. (By load alone, a short attempt within the
    counters' resolution could lose to a longer, disturbed one.)"""
    kept, made = None, 0
    while made < max(attempts, 1):
        made += 1
        with OtherLoad() as load:
            times = timed()
        if not load.disturbed(disturbed_cores):
            kept = (times, load)
            break
        if kept is None or (load.cores or 0.0) < (kept[1].cores or 0.0):
            kept = (times, load)
    times, load = kept
    return times, load, made


def worst_load(loads: list, disturbed_cores: float) -> dict:
    """The most other work any measurement's kept attempt saw, and whether any was disturbed."""
    if any(load.cores is None for load in loads):
        return {"other_load_cores": None, "disturbed": NOT_CHECKED}
    return {"other_load_cores": max(load.cores for load in loads),
            "disturbed": any(bool(load.disturbed(disturbed_cores)) for load in loads)}


def measure(comparison: Comparison, settings: dict) -> dict:
    """Time both sides interleaved, check they compute the same thing, and give the table row.

    A row on more than one thread is measured ``measurements`` times over and each side's rate is
    the median: on this project's 2-core virtual machine a 2-thread rate dips by up to a third for
    seconds at a time with no other work or steal time visible to the machine, while a 1-thread
    rate stays steady, so one 2-thread measurement is a draw (``ratio_low`` and ``ratio_high`` say
    how wide the draws were). ``candidate_fastest_per_s`` is the rate of the candidate's fastest run
    of them all, which its fraction of the bound takes (``machine.add_bound``)."""
    c = comparison
    disturbed_cores = float(settings.get("disturbed_cores", 0.2))
    measurements = max(int(settings.get("measurements", 1)), 1) if c.workload.threads > 1 else 1
    with thread_settings.limited(c.workload.threads):
        base_runner = c.baseline.build(0, c.baseline.amount)
        cand_runner = c.candidate.build(0, c.candidate.amount)
        base_work = c.baseline.amount * c.baseline.work_per_amount
        cand_work = c.candidate.amount * c.candidate.work_per_amount
        baseline = Side(c.baseline.name, base_runner.run, base_work)
        candidate = Side(c.candidate.name, cand_runner.run, cand_work)
        kept = [least_disturbed(lambda: interleaved(baseline, candidate, int(settings[c.repeats]), c.warmup),
                                int(settings.get("attempts", 1)), disturbed_cores)
                for _ in range(measurements)]
        timings = [timing for timing, _, _ in kept]
        base_s = float(np.median([t.baseline for t in timings]))
        cand_s = float(np.median([t.candidate for t in timings]))
        fastest_s = min(t.candidate_fastest for t in timings)
        ratios = [t.baseline / base_work * cand_work / t.candidate for t in timings]
        diff, same = same_result(c)
    base_rate, cand_rate = base_work / base_s, cand_work / cand_s
    ratio = cand_rate / base_rate
    baseline_arithmetic = c.work.arithmetic if c.baseline_arithmetic_per_unit is None \
        else c.baseline_arithmetic_per_unit
    row = {
        "comparison": c.name, "baseline": c.baseline.name, "candidate": c.candidate.name,
        "workload": describe(c.workload), "baseline_per_s": base_rate, "candidate_per_s": cand_rate, "ratio": ratio,
        "same_result": same, "difference": diff, "tolerance": c.tolerance, "check": c.check, "floor": c.floor,
        # a floor is met at the ratio, with the same result wherever the two sides' results are compared
        "floor_met": None if c.floor is None else bool(ratio >= c.floor and (same is True or c.tolerance is None)),
        **asdict(c.workload), "baseline_work": base_work, "candidate_work": cand_work,
        "baseline_gflops": baseline_arithmetic * base_rate / 1e9,
        "candidate_gflops": c.work.arithmetic * cand_rate / 1e9,
        "arithmetic_per_unit": c.work.arithmetic, "baseline_arithmetic_per_unit": baseline_arithmetic,
        "arithmetic_model": c.arithmetic_model or "both sides: the candidate's count",
        "bytes_per_unit": c.work.traffic, "rewritten_bytes_per_unit": c.work.rewritten,
        "working_set_bytes": c.work.streamed_set(c.workload.threads),
        "exps_per_unit": c.work.exps, "scalar_sigmoids_per_unit": c.work.scalar_sigmoids,
        "separate_multiply_adds_per_unit": c.work.separate_multiply_adds,
        "measurements": measurements, "ratio_low": min(ratios), "ratio_high": max(ratios),
        "candidate_fastest_per_s": cand_work / fastest_s,
        "attempts": max(made for _, _, made in kept), **worst_load([load for _, load, _ in kept], disturbed_cores),
        **c.extra,
    }
    return row


def same_result(c: Comparison) -> tuple[float | None, bool | str]:
    """Both sides built afresh from one seed and run over the same work: how far apart their results
    are, and whether that is within the tolerance (``NOT_CHECKED`` without one)."""
    if c.tolerance is None:
        return None, NOT_CHECKED
    check_base = c.baseline.build(1, c.check_amount)
    check_cand = c.candidate.build(1, c.check_amount)
    check_base.run()
    check_cand.run()
    diff = difference(c.difference, check_cand.result(), check_base.result())
    return diff, bool(diff <= c.tolerance)


def describe(w: Workload) -> str:
    """The workload in one line of the table."""
    scheme = f", {w.baseline_scheme} -> {w.scheme}" if w.baseline_scheme else (f", {w.scheme}" if w.scheme else "")
    optimizer = f", {w.optimizer}" if w.optimizer else ""
    return (f"{w.network} {w.activation}, {w.task} on {w.dataset}, {w.samples} samples x {w.epochs} epochs, "
            f"batch {w.batch_size}"
            f"{optimizer}{scheme}, {w.dtype}, {w.threads} thread(s)")


def run_all(arrays: dict, settings: dict, dataset: str) -> tuple[list[dict], dict]:
    """Every row, and the machine's limits, measured before and after the rows: each limit is the
    better of the two, so that a moment of load on a shared machine does not lower a bound."""
    plan = catalog.plan(catalog.prepare(arrays, dataset), settings)
    thread_counts = sorted({1, 2, *settings["torch_threads"]})
    before = machine.machine_limits(plan, thread_counts)
    rows = [measure(c, settings) for c in plan]
    after = machine.machine_limits(plan, thread_counts)
    limits = {key: max(before[key], after[key]) for key in before}
    for r in rows:
        r["time_saved"] = 1 - 1 / r["ratio"]
        if r["comparison"].startswith("seed00"):
            units = r["epochs"] * (r["samples"] if r["unit"] == "samples" else 1)
            r["baseline_seconds"] = units / r["baseline_per_s"]
            r["candidate_seconds"] = units / r["candidate_per_s"]
        machine.add_bound(r, limits)
    return rows, limits

