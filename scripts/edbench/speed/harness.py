"""The speed benchmark: each implementation against its baseline, interleaved in one process.

Every comparison is data (``Comparison``): the workload both sides run, the two implementations,
the arithmetic per unit of work, and the tolerance within which both must compute the same thing.
One driver (``measure``) times both sides alternately after a warm-up under the workload's thread
settings, takes medians, and then checks the result: both sides are built afresh from one seed,
run the same work, and their weights or gradients are compared, so a speed-up never hides a
change of algorithm. A comparison without a tolerance reports ``same_result`` as "not checked".
The machine's limits are measured in the same run (the matrix-multiply peak, the vectorised exp's
throughput, and memory bandwidth over each row's own working set, so that weights which stay in
cache get cache bandwidth and large ones DRAM's), and every row gets the ``bound`` its arithmetic,
bytes and exponentials per unit of work meet first (a roofline) and the ``fraction_of_bound`` the
candidate reaches. A bound is an upper limit: each count is the least the candidate's algorithm must
do (never the baseline's work), so a fraction above 1 means the model is wrong.
"""
from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from edbench import methods, tasks
from edbench import threads as threads_module
from edbench.methods.ed import rule as ed
from edbench.speed import peers as baselines
from edbench.speed.other_load import OtherLoad

NOT_CHECKED = "not checked"
TORCH_PATHS = ("default", "foreach", "fused")
MLP_SHAPE = [784, 128, 10]
DRAM_BYTES = 256 * 2 ** 20   # a working set far beyond the caches, recorded for reference


@dataclass(frozen=True)
class Workload:
    """What both sides run, in the columns a claim's protocol is compared with."""
    dataset: str            # data actually used (the speed npz's name, or truth_tables)
    task: str               # gates, mnist01, mnist10
    network: str            # layer sizes, e.g. 784-128-10
    activation: str
    samples: int            # training examples per epoch (per gradient, for gradient rows)
    epochs: int             # epochs (iterations, for seed 001) the reported seconds stand for
    batch_size: int
    threads: int
    dtype: str
    scheme: str = ""        # candidate's finite-difference scheme or ED rule
    baseline_scheme: str = ""
    optimizer: str = ""
    unit: str = "samples"   # what the rates count


@dataclass(frozen=True)
class Implementation:
    """One side: ``build(seed, amount)`` gives an object whose ``run()`` does ``amount`` units of work
    (the timed unit) and whose ``result()`` gives the arrays both sides must agree on."""
    name: str
    build: Callable[[int, int], object]
    amount: int             # per timed run
    work_per_amount: float = 1.0


@dataclass(frozen=True)
class Comparison:
    name: str
    workload: Workload
    baseline: Implementation
    candidate: Implementation
    arithmetic_per_unit: float          # floating-point operations per unit the candidate must do (estimate)
    tolerance: float | None             # None: same_result is not checked
    check: str = ""                     # what is compared, and how
    check_amount: int = 1               # work each side runs, from one seed, for the check
    difference: str = "relative"        # "relative" (norm) or "max_abs"
    floor: float | None = None
    repeats: str = "repeats"            # the settings key giving the number of timed rounds
    bytes_per_unit: float = 0.0         # memory traffic the candidate must do per unit (estimate)
    exps_per_unit: float = 0.0          # exponentials (sigmoids) per unit
    warmup: int = 1
    extra: dict = field(default_factory=dict)
    working_set_bytes: float = 0.0      # what the candidate's traffic streams over (its weights): sizes the bandwidth
    baseline_arithmetic_per_unit: float | None = None   # the baseline's own count, if it does other work
    arithmetic_model: str = ""          # which count each of the gflops columns uses


@dataclass
class Side:
    name: str
    run: Callable[[], object]   # one unit of timed work
    work: float                 # units of work per run


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


def memory_bandwidth(working_set_bytes: float, threads: int = 1, repeats: int = 5,
                     least_bytes: int = 64 * 2 ** 20) -> float:
    """GB/s streaming over ``working_set_bytes`` split over ``threads`` threads: the better of a read
    and a read-modify-write pass (bytes read plus bytes written), each repeated in one compiled call
    until ``least_bytes`` per thread have moved. A working set that fits a cache gets that cache's
    bandwidth, a large one DRAM's."""
    from edbench.speed.stream_kernel import read_stream, update_stream

    n = max(int(working_set_bytes) // threads // 8, 64)
    arrays = [np.ones(n) for _ in range(threads)]
    passes = max(1, math.ceil(least_bytes / (8 * n)))
    best = 0.0
    for kernel, touches in ((read_stream, 1), (update_stream, 2)):
        kernel(arrays[0][:64], 1)
        times = []
        for _ in range(repeats + 1):
            workers = [threading.Thread(target=kernel, args=(a, passes)) for a in arrays[1:]]
            start = time.perf_counter()
            for worker in workers:
                worker.start()
            kernel(arrays[0], passes)
            for worker in workers:
                worker.join()
            times.append(time.perf_counter() - start)
        best = max(best, touches * 8 * n * threads * passes / min(times[1:]) / 1e9)
    return best


def exp_throughput(dtype, size: int = 1 << 20, repeats: int = 5) -> float:
    """Exponentials per second of the kernels' vectorised exp, one thread."""
    from edbench.maths.exp_kernel import exp_array

    x = np.random.default_rng(0).normal(0, 3, size).astype(dtype)
    exp_array(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        exp_array(x)
        times.append(time.perf_counter() - start)
    return size / min(times)


def roofline(arithmetic: float, traffic: float, exps: float, limits: dict) -> tuple[str, float]:
    """The limit met first and the rate (units per second) it allows."""
    seconds = {"compute": arithmetic / (limits["gflops"] * 1e9),
               "memory": traffic / (limits["bandwidth_gbs"] * 1e9) if traffic else 0.0,
               "exp": exps / limits["exps_per_s"]}
    bound = max(seconds, key=seconds.get)
    return bound, 1.0 / seconds[bound] if seconds[bound] > 0 else float("inf")


def difference(kind: str, a: list[np.ndarray], b: list[np.ndarray]) -> float:
    flat_a = np.concatenate([np.asarray(x, np.float64).ravel() for x in a])
    flat_b = np.concatenate([np.asarray(x, np.float64).ravel() for x in b])
    if kind == "max_abs":
        return float(np.abs(flat_a - flat_b).max())
    return float(np.linalg.norm(flat_a - flat_b) / np.linalg.norm(flat_b))


def least_disturbed(timed: Callable[[], tuple[float, float]], attempts: int, disturbed_cores: float):
    """Run ``timed`` (both sides' rounds) until other work on the machine kept fewer than
    ``disturbed_cores`` cores busy meanwhile, at most ``attempts`` times: the first undisturbed
    attempt is kept, or if none was, the one with the least other load. Gives its two times, its
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
    (base_s, cand_s), load = kept
    return base_s, cand_s, load, made


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
    how wide the draws were)."""
    c = comparison
    disturbed_cores = float(settings.get("disturbed_cores", 0.2))
    measurements = max(int(settings.get("measurements", 1)), 1) if c.workload.threads > 1 else 1
    with threads_module.limited(c.workload.threads):
        base_runner = c.baseline.build(0, c.baseline.amount)
        cand_runner = c.candidate.build(0, c.candidate.amount)
        base_work = c.baseline.amount * c.baseline.work_per_amount
        cand_work = c.candidate.amount * c.candidate.work_per_amount
        baseline = Side(c.baseline.name, base_runner.run, base_work)
        candidate = Side(c.candidate.name, cand_runner.run, cand_work)
        timings = [least_disturbed(lambda: interleaved(baseline, candidate, int(settings[c.repeats]), c.warmup),
                                   int(settings.get("attempts", 1)), disturbed_cores)
                   for _ in range(measurements)]
        base_s = float(np.median([t[0] for t in timings]))
        cand_s = float(np.median([t[1] for t in timings]))
        ratios = [t[0] / base_work * cand_work / t[1] for t in timings]
        if c.tolerance is None:
            diff, same = None, NOT_CHECKED
        else:
            check_base = c.baseline.build(1, c.check_amount)
            check_cand = c.candidate.build(1, c.check_amount)
            check_base.run()
            check_cand.run()
            diff = difference(c.difference, check_cand.result(), check_base.result())
            same = bool(diff <= c.tolerance)
    base_rate, cand_rate = base_work / base_s, cand_work / cand_s
    ratio = cand_rate / base_rate
    baseline_arithmetic = c.arithmetic_per_unit if c.baseline_arithmetic_per_unit is None \
        else c.baseline_arithmetic_per_unit
    row = {
        "comparison": c.name, "baseline": c.baseline.name, "candidate": c.candidate.name,
        "workload": describe(c.workload), "baseline_per_s": base_rate, "candidate_per_s": cand_rate, "ratio": ratio,
        "same_result": same, "difference": diff, "tolerance": c.tolerance, "check": c.check, "floor": c.floor,
        "floor_met": None if c.floor is None else bool(ratio >= c.floor and same is True),
        **asdict(c.workload), "baseline_work": base_work, "candidate_work": cand_work,
        "baseline_gflops": baseline_arithmetic * base_rate / 1e9,
        "candidate_gflops": c.arithmetic_per_unit * cand_rate / 1e9,
        "arithmetic_per_unit": c.arithmetic_per_unit, "baseline_arithmetic_per_unit": baseline_arithmetic,
        "arithmetic_model": c.arithmetic_model or "both sides: the candidate's count",
        "bytes_per_unit": c.bytes_per_unit, "working_set_bytes": c.working_set_bytes,
        "exps_per_unit": c.exps_per_unit,
        "measurements": measurements, "ratio_low": min(ratios), "ratio_high": max(ratios),
        "attempts": max(t[3] for t in timings), **worst_load([t[2] for t in timings], disturbed_cores),
        **c.extra,
    }
    return row


def describe(w: Workload) -> str:
    scheme = f", {w.baseline_scheme} -> {w.scheme}" if w.baseline_scheme else (f", {w.scheme}" if w.scheme else "")
    optimizer = f", {w.optimizer}" if w.optimizer else ""
    return (f"{w.network} {w.activation}, {w.task} on {w.dataset}, {w.samples} samples x {w.epochs} epochs, "
            f"batch {w.batch_size}"
            f"{optimizer}{scheme}, {w.dtype}, {w.threads} thread(s)")


# --- the runners each side builds ------------------------------------------------------------------
@dataclass
class Runner:
    run: Callable[[], object]
    result: Callable[[], list]


def method_trainer(method: str, params: dict, x: np.ndarray, y: np.ndarray, n_classes: int):
    """One epoch over the first ``amount`` samples of (x, y) per run, on a method built once."""
    def build(seed, amount):
        learner = methods.get(method)(x.shape[1], n_classes, params, seed=seed)
        weights = learner.get_weights if hasattr(learner, "get_weights") else (
            lambda: [learner.state()[k] for k in sorted(learner.state())])
        return Runner(lambda: learner.train_epoch(x[:amount], y[:amount]), weights)
    return build


def fresh_trainer(method: str, params: dict, x: np.ndarray, y: np.ndarray, n_classes: int):
    """``amount`` epochs on a freshly built method per run: a whole protocol, set-up included."""
    def build(seed, amount):
        state = {}

        def run():
            learner = methods.get(method)(x.shape[1], n_classes, params, seed=seed)
            for _ in range(amount):
                learner.train_epoch(x, y)
            state["learner"] = learner
        return Runner(run, lambda: [state["learner"].state()[k] for k in sorted(state["learner"].state())])
    return build


def layer_by_layer_ed(params: dict, x: np.ndarray, y: np.ndarray, batch: int):
    def build(seed, amount):
        deep = methods.get("ed_deep")(x.shape[1], 2, params, seed=seed)
        plain = baselines.LayerByLayerED(deep.get_weights(), deep.params)
        targets = ed.targets(y, 2).T

        def run():
            for start in range(0, amount, batch):
                plain.train_batch(x[start:start + batch], targets[:, start:start + batch])
        return Runner(run, plain.get_weights)
    return build


def fd_gradient(params: dict, sizes: list[int], x: np.ndarray, y: np.ndarray):
    """``amount`` gradients of the fd method at its initial weights on one batch per run."""
    def build(seed, amount):
        learner = methods.get("fd")(sizes[0], sizes[-1], {**params, "hidden": sizes[1:-1]}, seed=seed)
        out = {}

        def run():
            for _ in range(amount):
                grads, _ = learner.gradient(x, y)
            out["grads"] = [g.copy() for g in grads]
        return Runner(run, lambda: out["grads"])
    return build


def fd_gates(params: dict, problems):
    """``amount`` SGD iterations of each of the four gate networks per run (seed 001's program)."""
    def build(seed, amount):
        learners = [methods.get("fd")(2, 2, params, seed=seed) for _ in problems]

        def run():
            for learner, problem in zip(learners, problems):
                for _ in range(amount):
                    learner.train_epoch(problem.x_train, problem.y_train)
        return Runner(run, lambda: [w for learner in learners for w in learner.weights])
    return build


def on_numba_threads(threads: int, build):
    """A side whose work runs on ``threads`` numba threads, whatever the row's workload sets."""
    def wrapped(seed, amount):
        runner = build(seed, amount)

        def run():
            with threads_module.numba_threads(threads):
                return runner.run()
        return Runner(run, runner.result)
    return wrapped


def torch_ed_trainer(params: dict, x: np.ndarray, y: np.ndarray, n_classes: int, compile: bool):
    """ED in PyTorch (``edbench.torch_ed``) from the initial weights ed_matrix draws for ``seed``."""
    def build(seed, amount):
        import torch

        from edbench.speed.torch_ed import TorchED

        reference = methods.get("ed_matrix")(x.shape[1], n_classes, params, seed=seed)
        peer = TorchED(reference.get_weights(), reference.params, getattr(torch, reference.params["dtype"]),
                       compile=compile)
        targets = ed.targets(y[:amount], n_classes).T
        order = np.arange(amount)
        return Runner(lambda: peer.train_epoch(x[:amount], targets, order, params["batch_size"]), peer.get_weights)
    return build


def fd_arithmetic(sizes: list[int], x: np.ndarray, scheme: str, step_aware: bool) -> float:
    """Floating-point operations of one finite-difference gradient of a ``sizes`` network on batch ``x``.

    Naive: a whole forward pass (2 flops per parameter and sample) per evaluation, one per parameter
    (forward differences) or two (central). Step-aware (one hidden layer, D-H-C): one forward pass,
    in which a zero input adds nothing, and then, per step (two for central), only what lies after
    each parameter: a weight into the output moves one logit, at least a multiply-add per sample for
    the loss's change; a weight into hidden unit j moves that unit and, through it, the loss, at
    least two multiply-adds per sample, and none where its input is zero (the step moves nothing).
    The step-aware count is the least the step-aware kernel must do, so it can bound its speed."""
    batch = len(x)
    evaluations = 2 if scheme == "central" else 1
    if not step_aware:
        count = sum(a * b + b for a, b in itertools.pairwise(sizes))
        return count * evaluations * 2 * batch * count
    if len(sizes) != 3:
        raise ValueError("the step-aware count is for one hidden layer")
    _, hidden, classes = sizes
    non_zero = float(np.count_nonzero(x))
    forward = 2 * (non_zero * hidden + batch * hidden * classes)
    reached_hidden = (non_zero + batch) * hidden           # inputs plus the bias, per sample
    reached_output = batch * (hidden + 1) * classes
    return forward + evaluations * (4 * reached_hidden + 2 * reached_output)


def mlp_arithmetic(sizes: list[int]) -> float:
    """Flops per sample of one backprop step: 2 per weight forward, 2 per weight for its gradient,
    and 2 per weight after the first layer to carry the error back (no layer needs the input's
    gradient). Biases and the optimizer's per-batch update are left out: a least count."""
    weights = [a * b for a, b in itertools.pairwise(sizes)]
    return 4 * sum(weights) + 2 * sum(weights[1:])


MLP_ARITHMETIC = mlp_arithmetic(MLP_SHAPE)
MLP_MODEL = "both sides: backprop's least count (mlp_arithmetic)"


def ed_work(method: str, params: dict, x: np.ndarray, n_classes: int) -> dict:
    """The method's own count (``LearningMethod.work_per_sample``) as the comparisons' fields."""
    work = methods.get(method)(x.shape[1], n_classes, params, seed=0).work_per_sample(x)
    return {"arithmetic": work.arithmetic, "traffic": work.traffic, "exps": work.exps, "weights": work.working_set}


def ed_comparisons(data: dict, settings: dict) -> list[Comparison]:
    """ED against itself on more threads, in float32, and against ED written in PyTorch."""
    out = []
    problems = {"mnist01": (data["mnist01"], 2), "mnist10": (data["mnist10"], 10)}
    n = settings["ed_parallel_samples"]
    x10, y10 = problems["mnist10"][0].x_train[:n], problems["mnist10"][0].y_train[:n]
    for method, params, network in (("ed_matrix", {"hidden": [64], "shuffle": False}, "784-64-1 x10"),
                                    ("ed_deep", {"depth": 512, "width": 4, "batch_size": 128, "alpha": 0.2,
                                                 "shuffle": False}, "784-(4x512)-1 x10")):
        amount = n if method == "ed_matrix" else max(128, n // 128 * 128)
        work = ed_work(method, params, x10[:amount], 10)
        trainer = method_trainer(method, params, x10, y10, 10)
        batch = params.get("batch_size", 1)
        out.append(Comparison(
            f"{method}_mnist10_2t_vs_1t",
            Workload(data["dataset"], "mnist10", network, "sigmoid", amount, 1, batch, 2, "float64",
                     scheme="2 threads", baseline_scheme="1 thread"),
            Implementation(f"{method} (1 thread)", on_numba_threads(1, trainer), amount),
            Implementation(f"{method} (2 threads)", on_numba_threads(2, trainer), amount),
            work["arithmetic"], 0.0, "max |dw| = 0: the same weights on 1 and 2 threads", amount, "max_abs", 1.7,
            bytes_per_unit=work["traffic"], exps_per_unit=work["exps"], working_set_bytes=work["weights"]))

    deep = {"depth": 512, "width": 4, "batch_size": 128, "alpha": 0.2, "shuffle": False, "rule": "bidirectional"}
    amount = 128 * settings["ed_deep_batches"]
    x01, y01 = problems["mnist01"][0].x_train[:amount], problems["mnist01"][0].y_train[:amount]
    single = {**deep, "dtype": "float32"}
    work = ed_work("ed_deep", single, x01, 2)
    out.append(Comparison(
        "ed_deep_float32_vs_float64",
        Workload(data["dataset"], "mnist01", "784-(4x512)-1", "sigmoid", amount, 1, 128, 1, "float32",
                 scheme="float32", baseline_scheme="float64"),
        Implementation("ed_deep (float64)", method_trainer("ed_deep", deep, x01, y01, 2), amount),
        Implementation("ed_deep (float32)", method_trainer("ed_deep", single, x01, y01, 2), amount),
        work["arithmetic"], 1e-4, "relative weight difference <= 1e-4 after one batch (float32 rounding)", 128,
        "relative", 1.6, bytes_per_unit=work["traffic"], exps_per_unit=work["exps"],
        working_set_bytes=work["weights"]))

    compile_torch = bool(settings["torch_ed_compile"])
    for task, (problem, n_classes) in problems.items():
        for batch in (1, 128):
            for dtype, tolerance in (("float64", 1e-9), ("float32", 1e-2)):
                amount = settings["torch_ed_online_samples"] if batch == 1 else 128 * settings["torch_ed_batches"]
                params = {"hidden": [64], "batch_size": batch, "dtype": dtype, "shuffle": False}
                xs, ys = problem.x_train[:amount], problem.y_train[:amount]
                work = ed_work("ed_matrix", params, xs, n_classes)
                mode = "online" if batch == 1 else f"b{batch}"
                checked = min(amount, 32 if (batch == 1 and dtype == "float32") else 128)
                out.append(Comparison(
                    f"ed_matrix_vs_pytorch_ed_{mode}_{task}_{dtype}",
                    Workload(data["dataset"], task, f"784-64-1 x{1 if n_classes == 2 else n_classes}", "sigmoid",
                             amount, 1, batch, 1, dtype, scheme="faithful"),
                    Implementation("torch ED" + (" (compiled)" if compile_torch else ""),
                                   torch_ed_trainer(params, xs, ys, n_classes, compile_torch), amount),
                    Implementation("ed_matrix", method_trainer("ed_matrix", params, xs, ys, n_classes), amount),
                    work["arithmetic"], tolerance,
                    f"relative weight difference <= {tolerance:g} after the same {checked} samples "
                    "(float32: two roundings of the same rule, which drift apart online)", checked, "relative", 1.5,
                    bytes_per_unit=work["traffic"], exps_per_unit=work["exps"],
                    working_set_bytes=work["weights"]))
    return out


# --- the comparisons --------------------------------------------------------------------------------
def comparisons(data: dict, settings: dict) -> list[Comparison]:
    """Every comparison but the PyTorch races (``torch_comparisons``), as data."""
    mnist01, mnist10, gates = data["mnist01"], data["mnist10"], data["gates"]
    out = []

    # online ED: ed_matrix against ed_neuron, seed 000's network
    params = {"hidden": [16] * 10, "alpha": 0.1, "shuffle": False}
    n_base, n_cand = settings["ed_neuron_samples"], settings["ed_matrix_samples"]
    online = ed_work("ed_matrix", params, mnist01.x_train[:n_cand], 2)
    out.append(Comparison(
        "ed_matrix_vs_ed_neuron",
        Workload(data["dataset"], "mnist01", "784-(16x10)-1", "sigmoid", n_cand, 1, 1, 1, "float64", scheme="faithful"),
        Implementation("ed_neuron", method_trainer("ed_neuron", params, mnist01.x_train, mnist01.y_train, 2), n_base),
        Implementation("ed_matrix (online)", method_trainer("ed_matrix", params, mnist01.x_train, mnist01.y_train, 2),
                       n_cand),
        online["arithmetic"], 0.0, f"max |dw| = 0 (bit for bit) after the same {n_base} samples", n_base, "max_abs",
        500.0, bytes_per_unit=online["traffic"], exps_per_unit=online["exps"],
        working_set_bytes=online["weights"]))

    # deep ED: ed_deep against one product and one update call per layer
    deep = {"depth": 512, "width": 4, "batch_size": 128, "alpha": 0.2, "shuffle": False}
    n = 128 * settings["ed_deep_batches"]
    x01, y01 = mnist01.x_train[:n], mnist01.y_train[:n]
    work = ed_work("ed_deep", deep, x01, 2)
    out.append(Comparison(
        "ed_deep_vs_layer_by_layer",
        Workload(data["dataset"], "mnist01", "784-(4x512)-1", "sigmoid", n, 1, 128, 1, "float64", scheme="faithful"),
        Implementation("layer-by-layer ED", layer_by_layer_ed(deep, x01, y01, 128), n),
        Implementation("ed_deep", method_trainer("ed_deep", deep, x01, y01, 2), n),
        work["arithmetic"], 1e-9, "max |dw| <= 1e-9 after one batch of 128", 128, "max_abs", 5.0,
        bytes_per_unit=work["traffic"], exps_per_unit=work["exps"],
        working_set_bytes=work["weights"]))

    # finite differences: naive against step-aware, forward against central
    def fd_rows(name, sizes, x, y, calls, scheme, baseline_scheme, step_aware_baseline, floor, tolerance, check,
                repeats):
        batch = len(y)
        params = {"activation": "sigmoid", "eps": 1e-4}
        base_kind = "step-aware" if step_aware_baseline else "naive"
        base_name = f"{base_kind} fd ({baseline_scheme})"
        return Comparison(
            name, Workload(data["dataset"] if sizes[0] == 784 else "truth_tables", "mnist10" if sizes[0] == 784
                           else "gates", "-".join(map(str, sizes)),
                           "sigmoid", batch, 1, batch, 1, "float64", scheme=scheme, baseline_scheme=baseline_scheme,
                           unit="gradients"),
            Implementation(base_name, fd_gradient({**params, "scheme": baseline_scheme,
                                                   "step_aware": step_aware_baseline}, sizes, x, y), calls[0]),
            Implementation(f"step-aware fd ({scheme})", fd_gradient({**params, "scheme": scheme}, sizes, x, y),
                           calls[1]),
            fd_arithmetic(sizes, x, scheme, True), tolerance, check, 1, "relative", floor, repeats,
            baseline_arithmetic_per_unit=fd_arithmetic(sizes, x, baseline_scheme, step_aware_baseline),
            arithmetic_model=f"candidate: step-aware {scheme}; baseline: {base_kind} {baseline_scheme} "
                             "(fd_arithmetic)")

    hidden = settings["fd_gates_hidden"]
    out.append(fd_rows("fd_step_aware_vs_naive_gates", [2, hidden, 2], gates.x_train, gates.y_train, (5, 500),
                       "forward", "forward", False, 100.0, 1e-9, "relative gradient difference <= 1e-9", "repeats"))
    x10, y10 = mnist10.x_train[:32], mnist10.y_train[:32]
    out.append(fd_rows("fd_step_aware_vs_naive_mnist10", [784, 16, 10], x10, y10, (1, 20), "forward", "forward",
                       False, 100.0, 1e-9, "relative gradient difference <= 1e-9", "fd_repeats"))
    out.append(fd_rows("fd_forward_vs_central", [784, 16, 10], x10, y10, (1, 1), "forward", "central", True,
                       None, 1e-3, "relative gradient difference <= 1e-3 (forward differences are first order)",
                       "repeats"))

    # seed 001's protocol, 20,000 iterations on the four gates, split into its two changes
    problems = data["gate_problems"]
    common = {"hidden": [hidden], "activation": "sigmoid", "batch_size": 4, "lr": 2.0, "eps": 1e-4}
    naive_it, step_it = settings["seed001_naive_iterations"], settings["seed001_step_iterations"]
    def per_iteration(scheme, step_aware):   # the four gates, one gradient each
        return sum(fd_arithmetic([2, hidden, 2], p.x_train, scheme, step_aware) for p in problems)

    seed001 = {"dataset": "truth_tables", "task": "gates", "network": f"2-{hidden}-2", "activation": "sigmoid",
               "samples": 4, "epochs": 20000, "batch_size": 4, "threads": 1, "dtype": "float64", "unit": "iterations"}
    out.append(Comparison(
        "seed001_protocol_step_aware_vs_naive",
        Workload(**seed001, scheme="central", baseline_scheme="central"),
        Implementation("naive fd (central)", fd_gates({**common, "step_aware": False, "scheme": "central"}, problems),
                       naive_it),
        Implementation("step-aware fd (central)", fd_gates({**common, "scheme": "central"}, problems), step_it),
        per_iteration("central", True), 1e-9, "relative weight difference <= 1e-9 after the same iterations",
        naive_it, repeats="seed001_repeats", extra={"protocol_epochs_scaled_from": step_it},
        baseline_arithmetic_per_unit=per_iteration("central", False),
        arithmetic_model="candidate: step-aware central; baseline: naive central (fd_arithmetic)"))
    out.append(Comparison(
        "seed001_protocol",
        Workload(**seed001, scheme="forward", baseline_scheme="central"),
        Implementation("step-aware fd (central)", fd_gates({**common, "scheme": "central"}, problems), step_it),
        Implementation("step-aware fd (forward)", fd_gates({**common, "scheme": "forward"}, problems), step_it),
        per_iteration("forward", True), 1e-3, "relative weight difference <= 1e-3 after the same iterations "
        "(forward differences are first order)", naive_it, repeats="seed001_repeats",
        extra={"protocol_epochs_scaled_from": step_it},
        baseline_arithmetic_per_unit=per_iteration("central", True),
        arithmetic_model="candidate: step-aware forward; baseline: step-aware central (fd_arithmetic)"))

    # seed 002's two protocols, each timed both ways: its NumPy run (1,000 digits, one full-batch Adam
    # step per epoch) and its PyTorch run (900 digits, the rest held out, batch 32)
    epochs = settings["seed002_epochs"]
    for name, n, batch in (("seed002_numpy_protocol", 1000, 1000), ("seed002_torch_protocol", 900, 32)):
        n = min(n, len(mnist10.y_train))
        batch = min(batch, n)
        xs, ys = mnist10.x_train[:n].astype(np.float32), mnist10.y_train[:n]
        adam = {"hidden": [128], "batch_size": batch, "dtype": "float32", "lr": 0.01}
        out.append(Comparison(
            name,
            Workload(data["dataset"], "mnist10", "784-128-10", "relu", n, epochs, batch, 1, "float32",
                     optimizer="adam"),
            Implementation("torch (adam, default)", fresh_trainer("torch", {**adam, "optimizer": "adam",
                                                                            "optimizer_path": "default"}, xs, ys, 10),
                           epochs, n),
            Implementation("bp_adam", fresh_trainer("bp_adam", adam, xs, ys, 10), epochs, n),
            MLP_ARITHMETIC, 1e-4, "relative weight difference <= 1e-4 after one epoch (float32)", 1,
            repeats="seed002_repeats", warmup=0, arithmetic_model=MLP_MODEL))
    return out


def torch_comparisons(data: dict, settings: dict, batch_sizes, thread_counts) -> list[Comparison]:
    """bp_sgd and bp_adam against PyTorch at its defaults and at its fastest optimizer path, per batch
    size and thread count; the fastest path is raced first, on the same workload."""
    mnist10 = data["mnist10"]
    out = []
    for threads in thread_counts:
        for batch in batch_sizes:
            n = max(settings["backprop_samples"], 4 * batch)
            xs, ys = mnist10.x_train[:n].astype(np.float32), mnist10.y_train[:n]
            for ours, optimizer, lr in (("bp_adam", "adam", 0.01), ("bp_sgd", "sgd", 0.1)):
                common = {"hidden": [128], "batch_size": batch, "dtype": "float32", "lr": lr}
                workload = Workload(data["dataset"], "mnist10", "784-128-10", "relu", n, 1, batch, threads, "float32",
                                    optimizer=optimizer)

                def torch_side(path, optimizer=optimizer, common=common, xs=xs, ys=ys, n=n):
                    return Implementation(f"torch ({optimizer}, {path})", method_trainer(
                        "torch", {**common, "optimizer": optimizer, "optimizer_path": path}, xs, ys, 10), n)
                best = fastest(torch_side, TORCH_PATHS, threads, settings)
                candidate = Implementation(ours, method_trainer(ours, common, xs, ys, 10), n)
                for label, path in (("default", "default"), ("best", best)):
                    out.append(Comparison(
                        f"{ours}_vs_torch_{label}_b{batch}_{threads}t", workload, torch_side(path), candidate,
                        MLP_ARITHMETIC, 1e-4, "relative weight difference <= 1e-4 after one epoch (float32)", n,
                        floor=1.0 if (label == "best" and batch == 32 and threads == 1) else None,
                        extra={"torch_path": path}, arithmetic_model=MLP_MODEL))
    return out


def fastest(side: Callable[[str], Implementation], paths, threads: int, settings: dict) -> str:
    """The path with the highest median rate, raced round-robin on the workload itself."""
    with threads_module.limited(threads):
        runners = {path: side(path).build(0, side(path).amount) for path in paths}
        times = {path: [] for path in paths}
        for path in paths:
            runners[path].run()
        for r in range(int(settings["torch_race_repeats"])):
            for path in (paths if r % 2 == 0 else paths[::-1]):
                start = time.perf_counter()
                runners[path].run()
                times[path].append(time.perf_counter() - start)
    return min(paths, key=lambda path: np.median(times[path]))


def prepare(arrays: dict, dataset: str) -> dict:
    mnist10 = tasks.build("mnist10", arrays)
    gates = tasks.gates_task()
    return {"mnist01": tasks.build("mnist01", arrays).problems[0], "mnist10": mnist10.problems[0],
            "dataset": dataset, "gates": gates.problems[3], "gate_problems": gates.problems}


def bandwidth_key(working_set: float, threads: int) -> str:
    return f"memory_bandwidth_gbs_{int(working_set)}B_{threads}t"


def machine_limits(plan: list[Comparison], thread_counts) -> dict:
    """The matrix-multiply peak per dtype and thread count, the bandwidth over every working set the
    plan streams (and DRAM's, for reference) at its rows' threads, and the exp's throughput."""
    limits = {f"{dtype}_{t}t": matmul_peak(dtype, t) for dtype in ("float32", "float64") for t in thread_counts}
    streams = {(DRAM_BYTES, 1)} | {(c.working_set_bytes, c.workload.threads) for c in plan if c.bytes_per_unit}
    for working_set, threads in sorted(streams):
        limits[bandwidth_key(working_set, threads)] = memory_bandwidth(working_set, threads)
    for dtype in ("float32", "float64"):
        limits[f"exp_{dtype}_per_s"] = exp_throughput(dtype)
    return limits


def run_all(arrays: dict, settings: dict, dataset: str) -> tuple[list[dict], dict]:
    """Every row, and the machine's limits, measured before and after the rows: each limit is the
    better of the two, so that a moment of load on a shared machine does not lower a bound."""
    data = prepare(arrays, dataset)
    batches, threads = list(settings["torch_batch_sizes"]), list(settings["torch_threads"])
    plan = comparisons(data, settings) + ed_comparisons(data, settings) + \
        torch_comparisons(data, settings, batches, threads)
    thread_counts = sorted({1, 2, *threads})
    before = machine_limits(plan, thread_counts)
    rows = [measure(c, settings) for c in plan]
    after = machine_limits(plan, thread_counts)
    peaks = {key: max(before[key], after[key]) for key in before}
    for r in rows:
        r["time_saved"] = 1 - 1 / r["ratio"]
        if r["comparison"].startswith("seed00"):
            units = r["epochs"] * (r["samples"] if r["unit"] == "samples" else 1)
            r["baseline_seconds"] = units / r["baseline_per_s"]
            r["candidate_seconds"] = units / r["candidate_per_s"]
        peak = peaks[f"{r['dtype']}_{r['threads']}t"]
        r["peak_gflops"] = peak
        r["candidate_fraction_of_peak"] = r["candidate_gflops"] / peak
        r["baseline_fraction_of_peak"] = r["baseline_gflops"] / peak
        r["bandwidth_gbs"] = peaks[bandwidth_key(r["working_set_bytes"], r["threads"])] if r["bytes_per_unit"] \
            else None
        limits = {"gflops": peak, "bandwidth_gbs": r["bandwidth_gbs"],
                  "exps_per_s": peaks[f"exp_{r['dtype']}_per_s"] * r["threads"]}
        r["bound"], r["bound_per_s"] = roofline(r["arithmetic_per_unit"], r["bytes_per_unit"], r["exps_per_unit"],
                                                limits)
        r["fraction_of_bound"] = r["candidate_per_s"] / r["bound_per_s"]
    return rows, peaks


DEFAULTS = {"repeats": 7, "fd_repeats": 3, "ed_neuron_samples": 16, "ed_matrix_samples": 512, "ed_deep_batches": 4,
            "backprop_samples": 1024, "fd_gates_hidden": 8, "seed001_naive_iterations": 20,
            "seed001_step_iterations": 500, "seed001_repeats": 3, "seed002_epochs": 100, "seed002_repeats": 3,
            "torch_batch_sizes": [32, 128, 512], "torch_threads": [1, 2], "torch_race_repeats": 3,
            "ed_parallel_samples": 2000, "torch_ed_online_samples": 1000, "torch_ed_batches": 8, "torch_ed_compile": 1,
            "measurements": 5, "attempts": 3, "disturbed_cores": 0.2}
