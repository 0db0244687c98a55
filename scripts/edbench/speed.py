"""The speed benchmark: each method against its baseline, interleaved in one process.

Both sides of a comparison run alternately (after a warm-up) under the same thread settings;
the medians give their rates. Each comparison also checks that both sides compute the same
thing (weights or gradients within a stated tolerance), so a speed-up never hides a change of
algorithm. The machine's matrix-multiply peak is measured in the same run, so every rate can
be put as a fraction of what the machine can do.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import baselines, ed, finite_diff, methods, tasks


@dataclass
class Side:
    name: str
    run: Callable[[], object]   # one unit of timed work
    work: float                 # units of work (samples, gradients) per run
    flops: float                # floating-point operations per run (estimate)


def interleaved(baseline: Side, candidate: Side, repeats: int, warmup: int = 1) -> tuple[float, float]:
    """Median seconds per run of each side, alternating which goes first."""
    for _ in range(warmup):
        baseline.run()
        candidate.run()
    times = {baseline.name: [], candidate.name: []}
    for r in range(repeats):
        for side in ((baseline, candidate) if r % 2 == 0 else (candidate, baseline)):
            start = time.perf_counter()
            side.run()
            times[side.name].append(time.perf_counter() - start)
    return float(np.median(times[baseline.name])), float(np.median(times[candidate.name]))


def matmul_peak(dtype, threads: int, size: int = 1024, repeats: int = 5) -> float:
    """GFLOP/s of a square matrix product at ``threads``."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.random((size, size)).astype(dtype)
    b = rng.random((size, size)).astype(dtype)
    with threadpool_limits(threads):
        a @ b
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start)
    return 2 * size ** 3 / min(times) / 1e9


def row(comparison: str, workload: str, baseline: Side, candidate: Side, seconds: tuple[float, float],
        same: bool, tolerance: str, floor: float | None, unit: str, dtype: str, threads: int) -> dict:
    base_s, cand_s = seconds
    base_rate, cand_rate = baseline.work / base_s, candidate.work / cand_s
    ratio = cand_rate / base_rate
    return {
        "comparison": comparison, "baseline": baseline.name, "candidate": candidate.name, "workload": workload,
        "baseline_per_s": base_rate, "candidate_per_s": cand_rate, "ratio": ratio, "same_result": same,
        "tolerance": tolerance, "unit": unit, "floor": floor,
        "floor_met": None if floor is None else bool(ratio >= floor and same),
        "dtype": dtype, "threads": threads,
        "baseline_gflops": baseline.flops / base_s / 1e9, "candidate_gflops": candidate.flops / cand_s / 1e9,
    }


def _max_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


def _relative(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    flat_a = np.concatenate([x.ravel() for x in a])
    flat_b = np.concatenate([x.ravel() for x in b])
    return float(np.linalg.norm(flat_a - flat_b) / np.linalg.norm(flat_b))


def ed_weights_count(method) -> int:
    return sum(w.size for w in method.get_weights())


# --- 1. online ED: ed_matrix against ed_neuron -------------------------------------------------
def ed_online(x: np.ndarray, y: np.ndarray, settings: dict) -> dict:
    params = {"hidden": [16] * 10, "alpha": 0.1, "shuffle": False}
    neuron = methods.get("ed_neuron")(x.shape[1], 2, params, seed=0)
    matrix = methods.get("ed_matrix")(x.shape[1], 2, params, seed=0)
    n_base, n_cand = settings["ed_neuron_samples"], settings["ed_matrix_samples"]
    flops = 6 * ed_weights_count(matrix)   # forward 2 per weight, update about 4
    baseline = Side("ed_neuron", lambda: neuron.train_epoch(x[:n_base], y[:n_base]), n_base, flops * n_base)
    candidate = Side("ed_matrix (online)", lambda: matrix.train_epoch(x[:n_cand], y[:n_cand]), n_cand, flops * n_cand)
    seconds = interleaved(baseline, candidate, settings["repeats"])
    check_neuron = methods.get("ed_neuron")(x.shape[1], 2, params, seed=1)
    check_matrix = methods.get("ed_matrix")(x.shape[1], 2, params, seed=1)
    check_neuron.train_epoch(x[:n_base], y[:n_base])
    check_matrix.train_epoch(x[:n_base], y[:n_base])
    same = _max_difference(check_neuron.get_weights(), check_matrix.get_weights()) <= 1e-12
    return row("ed_matrix_vs_ed_neuron", f"784-(16x10)-1 online, MNIST 0/1, {n_base} vs {n_cand} samples per run",
               baseline, candidate, seconds, same, "max |dw| <= 1e-12 after the same samples", 100.0,
               "samples", "float64", 1)


# --- 2. deep ED: ed_deep against a layer-by-layer implementation ------------------------------
def ed_deep(x: np.ndarray, y: np.ndarray, settings: dict) -> dict:
    params = {"depth": 512, "width": 4, "batch_size": 128, "alpha": 0.2, "shuffle": False}
    batches = settings["ed_deep_batches"]
    n = 128 * batches
    xs, ys = x[:n], y[:n]
    deep = methods.get("ed_deep")(x.shape[1], 2, params, seed=0)
    plain = baselines.LayerByLayerED(deep.get_weights(), deep.params)
    targets = ed.targets(ys, 2).T

    def layer_by_layer():
        for start in range(0, n, 128):
            plain.train_batch(xs[start:start + 128], targets[:, start:start + 128])

    flops = 6 * ed_weights_count(deep) * n
    baseline = Side("layer-by-layer ED", layer_by_layer, n, flops)
    candidate = Side("ed_deep", lambda: deep.train_epoch(xs, ys), n, flops)
    seconds = interleaved(baseline, candidate, settings["repeats"])
    check = methods.get("ed_deep")(x.shape[1], 2, params, seed=1)
    check_plain = baselines.LayerByLayerED(check.get_weights(), check.params)
    check.train_epoch(xs[:128], ys[:128])
    check_plain.train_batch(xs[:128], targets[:, :128])
    same = _max_difference(check.get_weights(), check_plain.get_weights()) <= 1e-9
    return row("ed_deep_vs_layer_by_layer", f"784-(4x512)-1, batch 128, MNIST 0/1, {batches} batches per run",
               baseline, candidate, seconds, same, "max |dw| <= 1e-9 after one batch", 5.0, "samples", "float64", 1)


# --- 3, 4. hand-written backprop against PyTorch --------------------------------------------------
def backprop_vs_torch(x: np.ndarray, y: np.ndarray, settings: dict, ours: str, optimizer: str, threads: int) -> dict:
    import torch
    from threadpoolctl import threadpool_limits

    lr = 0.01 if optimizer == "adam" else 0.1
    common = {"hidden": [128], "batch_size": 32, "dtype": "float32", "lr": lr}
    n = settings["backprop_samples"]
    xs, ys = x[:n].astype(np.float32), y[:n]
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    with threadpool_limits(threads):
        numpy_method = methods.get(ours)(x.shape[1], 10, common, seed=0)
        torch_method = methods.get("torch")(x.shape[1], 10, {**common, "optimizer": optimizer}, seed=0)
        params = 784 * 128 + 128 + 128 * 10 + 10
        flops = 6 * params * n
        baseline = Side(f"torch ({optimizer})", lambda: torch_method.train_epoch(xs, ys), n, flops)
        candidate = Side(ours, lambda: numpy_method.train_epoch(xs, ys), n, flops)
        seconds = interleaved(baseline, candidate, settings["repeats"])
        a = methods.get(ours)(x.shape[1], 10, common, seed=1)
        b = methods.get("torch")(x.shape[1], 10, {**common, "optimizer": optimizer}, seed=1)
        a.train_epoch(xs, ys)
        b.train_epoch(xs, ys)
        keys = sorted(a.state())
        difference = _relative([a.state()[k] for k in keys], [b.state()[k] for k in keys])
    torch.set_num_threads(previous)
    return row(f"{ours}_vs_torch_{threads}t", f"784-128-10 ReLU, batch 32, float32, {n} samples per run",
               baseline, candidate, seconds, difference <= 1e-4, "relative weight difference <= 1e-4 after one epoch",
               1.0, "samples", "float32", threads)


# --- 5, 6. finite differences ---------------------------------------------------------------------
def _repeat(function, times):
    def run():
        for _ in range(times):
            function()
    return run


def _fd_sides(sizes, batch, x, y, scheme, activation, calls=(1, 1)):
    """The fd method's own gradient step, naive and step-aware, on the same weights and batch;
    ``calls`` gradients per timed run (naive, step-aware), so short calls are not timer noise."""
    params = {"hidden": [sizes[1]], "activation": activation, "eps": 1e-4, "scheme": scheme}
    naive_method = methods.get("fd")(sizes[0], sizes[2], {**params, "step_aware": False}, seed=0)
    step_method = methods.get("fd")(sizes[0], sizes[2], params, seed=0)
    xs, ys = x[:batch], y[:batch]
    count = sum(p.size for p in step_method.weights)
    forward_flops = 2 * batch * count
    evaluations = count * (2 if scheme == "central" else 1)
    naive = Side(f"naive fd ({scheme})", _repeat(lambda: naive_method.gradient(xs, ys), calls[0]), calls[0],
                 calls[0] * evaluations * forward_flops)
    nonzero = np.count_nonzero(xs) + batch
    step_flops = (2 if scheme == "central" else 1) * (nonzero * sizes[1] * 30 + batch * (sizes[1] + 1) * sizes[2] * 30)
    step = Side(f"step-aware fd ({scheme})", _repeat(lambda: step_method.gradient(xs, ys), calls[1]), calls[1],
                calls[1] * (forward_flops + step_flops))
    return step_method.weights, xs, ys, naive, step


def fd_step_aware(name: str, sizes, batch, x, y, settings, activation="sigmoid", calls=(1, 1)) -> dict:
    params, xs, ys, naive, step = _fd_sides(sizes, batch, x, y, "forward", activation, calls)
    seconds = interleaved(naive, step, settings["fd_repeats"])
    difference = _relative(finite_diff.step_aware_gradient(params, xs, ys, activation, 1e-4, "forward"),
                           finite_diff.naive_gradient([p.copy() for p in params], xs, ys, activation, 1e-4, "forward"))
    workload = f"{'-'.join(map(str, sizes))} {activation}, batch {batch}, forward differences, eps 1e-4"
    return row(f"fd_step_aware_vs_naive_{name}", workload, naive, step, seconds, difference <= 1e-9,
               "relative gradient difference <= 1e-9 (float64)", 100.0, "gradients", "float64", 1)


def fd_forward_vs_central(sizes, batch, x, y, settings, activation="sigmoid") -> dict:
    params, xs, ys, _, central = _fd_sides(sizes, batch, x, y, "central", activation)
    _, _, _, _, forward = _fd_sides(sizes, batch, x, y, "forward", activation)
    seconds = interleaved(central, forward, settings["repeats"])
    difference = _relative(finite_diff.step_aware_gradient(params, xs, ys, activation, 1e-4, "forward"),
                           finite_diff.step_aware_gradient(params, xs, ys, activation, 1e-4, "central"))
    return row("fd_forward_vs_central", f"{'-'.join(map(str, sizes))} {activation}, batch {batch}, step-aware",
               central, forward, seconds, difference <= 1e-3,
               "relative gradient difference <= 1e-3 (forward differences are first order)", None, "gradients",
               "float64", 1)


# --- seed 001's protocol: 20,000 iterations on the four gates -----------------------------------------
def seed001_protocol(settings) -> dict:
    """Naive central differences (the seed's first program) against step-aware forward differences
    (its last), SGD on AND, OR, NAND and XOR; timed over fewer iterations and scaled to 20,000."""
    hidden = settings["fd_gates_hidden"]
    problems = tasks.gates_task().problems
    common = {"hidden": [hidden], "activation": "sigmoid", "batch_size": 4, "lr": 2.0, "eps": 1e-4}

    def trainer(params, iterations):
        learners = [methods.get("fd")(2, 2, params, seed=0) for _ in problems]

        def run():
            for learner, problem in zip(learners, problems):
                for _ in range(iterations):
                    learner.train_epoch(problem.x_train, problem.y_train)
        return run

    naive_iterations, step_iterations = settings["seed001_naive_iterations"], settings["seed001_step_iterations"]
    baseline = Side("naive fd (central)", trainer({**common, "step_aware": False, "scheme": "central"},
                                                  naive_iterations), naive_iterations, 0.0)
    candidate = Side("step-aware fd (forward)", trainer({**common, "scheme": "forward"}, step_iterations),
                     step_iterations, 0.0)
    seconds = interleaved(baseline, candidate, settings["seed001_repeats"], warmup=1)
    result = row("seed001_protocol", f"seed 001: AND/OR/NAND/XOR, 2-{hidden}-2 sigmoid, SGD, per iteration of all "
                 "four gates", baseline, candidate, seconds, True, "same training; gradients checked above", None,
                 "iterations", "float64", 1)
    result["baseline_seconds"] = 20000 / result["baseline_per_s"]
    result["candidate_seconds"] = 20000 / result["candidate_per_s"]
    return result


# --- seed 002's protocol, timed both ways -----------------------------------------------------------
def seed002_protocol(x_train, y_train, settings) -> dict:
    epochs = settings["seed002_epochs"]
    n = min(1000, len(y_train))
    xs, ys = x_train[:n].astype(np.float32), y_train[:n]
    common = {"hidden": [128], "batch_size": 32, "dtype": "float32", "lr": 0.01}

    def train(name, params):
        method = methods.get(name)(784, 10, params, seed=0)
        for _ in range(epochs):
            method.train_epoch(xs, ys)

    flops = 6 * (784 * 128 + 128 + 128 * 10 + 10) * n * epochs
    baseline = Side("torch (adam)", lambda: train("torch", {**common, "optimizer": "adam"}), n * epochs, flops)
    candidate = Side("bp_adam", lambda: train("bp_adam", common), n * epochs, flops)
    seconds = interleaved(baseline, candidate, settings["seed002_repeats"], warmup=0)
    result = row("seed002_protocol", f"seed 002: {n} MNIST digits x {epochs} epochs, 784-128-10, Adam lr 0.01, "
                 "batch 32", baseline, candidate, seconds, True, "same protocol; trajectories checked in tests",
                 None, "samples", "float32", 1)
    result["baseline_seconds"], result["candidate_seconds"] = seconds
    return result


def run_all(arrays: dict, settings: dict) -> tuple[list[dict], dict]:
    from threadpoolctl import threadpool_limits

    mnist01 = tasks.build("mnist01", arrays).problems[0]
    mnist10 = tasks.build("mnist10", arrays).problems[0]
    gates = tasks.gates_task().problems[3]
    rows = []
    with threadpool_limits(1):
        rows.append(ed_online(mnist01.x_train, mnist01.y_train, settings))
        rows.append(ed_deep(mnist01.x_train, mnist01.y_train, settings))
        rows.append(fd_step_aware("gates", [2, settings["fd_gates_hidden"], 2], 4, gates.x_train, gates.y_train,
                                  {**settings, "fd_repeats": settings["repeats"]}, calls=(5, 500)))
        rows.append(fd_step_aware("mnist10", [784, 16, 10], 32, mnist10.x_train, mnist10.y_train, settings,
                                  calls=(1, 20)))
        rows.append(fd_forward_vs_central([784, 16, 10], 32, mnist10.x_train, mnist10.y_train, settings))
    for threads in (1, 2):
        rows.append(backprop_vs_torch(mnist10.x_train, mnist10.y_train, settings, "bp_adam", "adam", threads))
        rows.append(backprop_vs_torch(mnist10.x_train, mnist10.y_train, settings, "bp_sgd", "sgd", threads))
    with threadpool_limits(1):
        rows.append(seed001_protocol(settings))
        rows.append(seed002_protocol(mnist10.x_train, mnist10.y_train, settings))
    peaks = {f"{dtype}_{threads}t": matmul_peak(dtype, threads) for dtype in ("float32", "float64") for threads in (1, 2)}
    for r in rows:
        r["time_saved"] = 1 - 1 / r["ratio"]
        peak = peaks[f"{r['dtype']}_{r['threads']}t"]
        r["peak_gflops"] = peak
        r["candidate_fraction_of_peak"] = r["candidate_gflops"] / peak
        r["baseline_fraction_of_peak"] = r["baseline_gflops"] / peak
    return rows, peaks


DEFAULTS = {"repeats": 7, "fd_repeats": 3, "ed_neuron_samples": 16, "ed_matrix_samples": 512, "ed_deep_batches": 4,
            "backprop_samples": 1024, "fd_gates_hidden": 8, "seed001_naive_iterations": 20,
            "seed001_step_iterations": 500, "seed001_repeats": 3, "seed002_epochs": 100, "seed002_repeats": 3}
