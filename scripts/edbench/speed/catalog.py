"""Every comparison of the speed table, declared as data (``plan``): the ED rows (``ed_catalog``),
finite differences against themselves, seed 001's and seed 002's protocols, and bp_sgd and bp_adam
against PyTorch. Each row's work per unit is the candidate method's own ``work_per_sample``, but for
finite differences, whose count is per gradient (``fd_arithmetic``)."""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import numpy as np

from edbench import methods, tasks
from edbench import threads as thread_settings
from edbench.methods.base import Work
from edbench.speed import ed_catalog
from edbench.speed.comparison import Comparison, Implementation, Workload
from edbench.speed.workloads import fd_gates, fd_gradient, fresh_trainer, method_trainer, work_per_sample

TORCH_PATHS = methods.get("torch").optimizer_paths
BACKPROP_MODEL = "both sides: backprop's least count (backprop_work)"


def prepare(arrays: dict, dataset: str) -> dict:
    """The problems the rows train on, and the speed data set's name. Their training inputs are
    read-only, as the runner hands them over, so a row times the epochs a run's later epochs are."""
    gates = tasks.gates_task()
    return {"mnist01": _read_only_training(tasks.build("mnist01", arrays).problems[0]),
            "mnist10": _read_only_training(tasks.build("mnist10", arrays).problems[0]),
            "dataset": dataset, "gates": gates.problems[3], "gate_problems": gates.problems}


def _read_only_training(problem: tasks.Problem) -> tasks.Problem:
    problem.x_train.setflags(write=False)   # built for these rows alone: frozen in place, not copied
    return problem


def plan(data: dict, settings: dict) -> list[Comparison]:
    """Every row, in the table's order."""
    return (ed_catalog.against_plain_code(data, settings) + finite_differences(data, settings)
            + seed001_protocol(data, settings) + seed002_protocols(data, settings)
            + ed_catalog.on_two_threads(data, settings) + [ed_catalog.in_float32(data, settings),
                                                             ed_catalog.by_width(data, settings)]
            + ed_catalog.in_minibatches(data, settings)
            + ed_catalog.against_pytorch_ed(data, settings) + against_pytorch(data, settings))


def fd_arithmetic(sizes: list[int], x: np.ndarray, scheme: str, step_aware: bool) -> float:
    """Floating-point operations of one finite-difference gradient of a ``sizes`` network on batch ``x``.

    It lives here, not in the fd method, because it counts a gradient on one batch, not a sample:
    the rows that use it time gradients or iterations.

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


def fd_gradient_row(data: dict, *, name: str, sizes: list[int], x: np.ndarray, y: np.ndarray, calls: tuple[int, int],
                    scheme: str, baseline_scheme: str, step_aware_baseline: bool, floor: float | None,
                    tolerance: float, check: str, repeats: str) -> Comparison:
    """Step-aware gradients in ``scheme`` against naive or step-aware ones in ``baseline_scheme``;
    ``calls`` are the gradients each side computes per timed run."""
    params = {"activation": "sigmoid", "eps": 1e-4}
    base_kind = "step-aware" if step_aware_baseline else "naive"
    on_mnist = sizes[0] == 784
    return Comparison(
        name=name,
        workload=Workload(dataset=data["dataset"] if on_mnist else "truth_tables",
                          task="mnist10" if on_mnist else "gates", network="-".join(map(str, sizes)),
                          activation="sigmoid", samples=len(y), epochs=1, batch_size=len(y), threads=1,
                          dtype="float64", scheme=scheme, baseline_scheme=baseline_scheme, unit="gradients"),
        baseline=Implementation(name=f"{base_kind} fd ({baseline_scheme})", amount=calls[0], build=fd_gradient(
            {**params, "scheme": baseline_scheme, "step_aware": step_aware_baseline}, sizes, x, y)),
        candidate=Implementation(name=f"step-aware fd ({scheme})", amount=calls[1],
                                 build=fd_gradient({**params, "scheme": scheme}, sizes, x, y)),
        work=Work(arithmetic=fd_arithmetic(sizes, x, scheme, True)),
        tolerance=tolerance, check=check, check_amount=1, difference="relative", floor=floor, repeats=repeats,
        baseline_arithmetic_per_unit=fd_arithmetic(sizes, x, baseline_scheme, step_aware_baseline),
        arithmetic_model=f"candidate: step-aware {scheme}; baseline: {base_kind} {baseline_scheme} (fd_arithmetic)")


def finite_differences(data: dict, settings: dict) -> list[Comparison]:
    """Naive against step-aware gradients (on the gates and on MNIST), and forward against central."""
    gates, mnist10 = data["gates"], data["mnist10"]
    x10, y10 = mnist10.x_train[:32], mnist10.y_train[:32]
    same = "relative gradient difference <= 1e-9"
    return [
        fd_gradient_row(data, name="fd_step_aware_vs_naive_gates", sizes=[2, settings["fd_gates_hidden"], 2],
                        x=gates.x_train, y=gates.y_train, calls=(5, 500), scheme="forward", baseline_scheme="forward",
                        step_aware_baseline=False, floor=100.0, tolerance=1e-9, check=same, repeats="repeats"),
        fd_gradient_row(data, name="fd_step_aware_vs_naive_mnist10", sizes=[784, 16, 10], x=x10, y=y10,
                        calls=(1, 20), scheme="forward", baseline_scheme="forward", step_aware_baseline=False,
                        floor=100.0, tolerance=1e-9, check=same, repeats="fd_repeats"),
        fd_gradient_row(data, name="fd_forward_vs_central", sizes=[784, 16, 10], x=x10, y=y10, calls=(1, 1),
                        scheme="forward", baseline_scheme="central", step_aware_baseline=True, floor=None,
                        tolerance=1e-3, check="relative gradient difference <= 1e-3 (forward differences are first "
                        "order)", repeats="repeats"),
    ]


def seed001_protocol(data: dict, settings: dict) -> list[Comparison]:
    """Seed 001's protocol, 20,000 iterations on the four gates, split into its two changes: step-aware
    gradients, then forward differences."""
    problems = data["gate_problems"]
    hidden = settings["fd_gates_hidden"]
    common = {"hidden": [hidden], "activation": "sigmoid", "batch_size": 4, "lr": 2.0, "eps": 1e-4}
    naive_it, step_it = settings["seed001_naive_iterations"], settings["seed001_step_iterations"]

    def per_iteration(scheme, step_aware):   # the four gates, one gradient each
        return sum(fd_arithmetic([2, hidden, 2], p.x_train, scheme, step_aware) for p in problems)

    def side(scheme, iterations, step_aware=True):
        kind = "step-aware" if step_aware else "naive"
        return Implementation(name=f"{kind} fd ({scheme})", amount=iterations,
                              build=fd_gates({**common, "scheme": scheme, "step_aware": step_aware}, problems))

    def workload(scheme, baseline_scheme):
        return Workload(dataset="truth_tables", task="gates", network=f"2-{hidden}-2", activation="sigmoid",
                        samples=4, epochs=20000, batch_size=4, threads=1, dtype="float64", scheme=scheme,
                        baseline_scheme=baseline_scheme, unit="iterations")

    shared = {"check_amount": naive_it, "repeats": "seed001_repeats", "extra": {"protocol_epochs_scaled_from": step_it}}
    return [
        Comparison(
            name="seed001_protocol_step_aware_vs_naive", workload=workload("central", "central"),
            baseline=side("central", naive_it, step_aware=False), candidate=side("central", step_it),
            work=Work(arithmetic=per_iteration("central", True)),
            tolerance=1e-9, check="relative weight difference <= 1e-9 after the same iterations", **shared,
            baseline_arithmetic_per_unit=per_iteration("central", False),
            arithmetic_model="candidate: step-aware central; baseline: naive central (fd_arithmetic)"),
        Comparison(
            name="seed001_protocol", workload=workload("forward", "central"),
            baseline=side("central", step_it), candidate=side("forward", step_it),
            work=Work(arithmetic=per_iteration("forward", True)),
            tolerance=1e-3, check="relative weight difference <= 1e-3 after the same iterations "
            "(forward differences are first order)", **shared,
            baseline_arithmetic_per_unit=per_iteration("central", True),
            arithmetic_model="candidate: step-aware forward; baseline: step-aware central (fd_arithmetic)"),
    ]


def seed002_protocols(data: dict, settings: dict) -> list[Comparison]:
    """Seed 002's two protocols, each timed both ways: its NumPy run (1,000 digits, one full-batch Adam
    step per epoch) and its PyTorch run (900 digits, the rest held out, batch 32)."""
    mnist10 = data["mnist10"]
    epochs = settings["seed002_epochs"]
    out = []
    for name, n, batch in (("seed002_numpy_protocol", 1000, 1000), ("seed002_torch_protocol", 900, 32)):
        n = min(n, len(mnist10.y_train))
        batch = min(batch, n)
        xs, ys = mnist10.x_train[:n].astype(np.float32), mnist10.y_train[:n]
        adam = {"hidden": [128], "batch_size": batch, "dtype": "float32", "lr": 0.01}
        torch_adam = {**adam, "optimizer": "adam", "optimizer_path": "default"}
        out.append(Comparison(
            name=name,
            workload=Workload(dataset=data["dataset"], task="mnist10", network="784-128-10", activation="relu",
                              samples=n, epochs=epochs, batch_size=batch, threads=1, dtype="float32",
                              optimizer="adam"),
            baseline=Implementation(name="torch (adam, default)", amount=epochs, work_per_amount=n,
                                    build=fresh_trainer("torch", torch_adam, xs, ys, 10)),
            candidate=Implementation(name="bp_adam", amount=epochs, work_per_amount=n,
                                     build=fresh_trainer("bp_adam", adam, xs, ys, 10)),
            work=work_per_sample("bp_adam", adam, xs, 10),
            tolerance=1e-4, check="relative weight difference <= 1e-4 after one epoch (float32)", check_amount=1,
            repeats="seed002_repeats", warmup=0, arithmetic_model=BACKPROP_MODEL))
    return out


def against_pytorch(data: dict, settings: dict) -> list[Comparison]:
    """bp_sgd and bp_adam against PyTorch at its defaults and at its fastest optimizer path, per batch
    size and thread count; the fastest path is raced first, on the same workload."""
    mnist10 = data["mnist10"]
    out = []
    for threads in settings["torch_threads"]:
        for batch in settings["torch_batch_sizes"]:
            n = max(settings["backprop_samples"], 4 * batch)
            xs, ys = mnist10.x_train[:n].astype(np.float32), mnist10.y_train[:n]
            for ours, optimizer, lr in (("bp_adam", "adam", 0.01), ("bp_sgd", "sgd", 0.1)):
                common = {"hidden": [128], "batch_size": batch, "dtype": "float32", "lr": lr}
                workload = Workload(dataset=data["dataset"], task="mnist10", network="784-128-10", activation="relu",
                                    samples=n, epochs=1, batch_size=batch, threads=threads, dtype="float32",
                                    optimizer=optimizer)

                def torch_side(path, optimizer=optimizer, common=common, xs=xs, ys=ys, n=n):
                    return Implementation(name=f"torch ({optimizer}, {path})", amount=n, build=method_trainer(
                        "torch", {**common, "optimizer": optimizer, "optimizer_path": path}, xs, ys, 10))
                best = fastest(torch_side, TORCH_PATHS, threads, settings)
                candidate = Implementation(name=ours, amount=n, build=method_trainer(ours, common, xs, ys, 10))
                for label, path in (("default", "default"), ("best", best)):
                    out.append(Comparison(
                        name=f"{ours}_vs_torch_{label}_b{batch}_{threads}t", workload=workload,
                        baseline=torch_side(path), candidate=candidate, work=work_per_sample(ours, common, xs, 10),
                        tolerance=1e-4, check="relative weight difference <= 1e-4 after one epoch (float32)",
                        check_amount=n, floor=1.0 if (label == "best" and batch == 32 and threads == 1) else None,
                        extra={"torch_path": path}, arithmetic_model=BACKPROP_MODEL))
    return out


def fastest(side: Callable[[str], Implementation], paths, threads: int, settings: dict) -> str:
    """The path with the highest median rate, raced round-robin on the workload itself."""
    with thread_settings.limited(threads):
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
