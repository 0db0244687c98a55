"""The speed table's ED rows, declared as data: each ED method against the plain code it replaces,
against itself on more threads and in float32, and ed_matrix against ED written in PyTorch."""
from __future__ import annotations

import dataclasses

from edbench.speed.comparison import Comparison, Implementation, Workload
from edbench.speed.peers import layer_by_layer_ed, torch_ed_trainer
from edbench.speed.workloads import method_trainer, numpy_minibatch_trainer, on_numba_threads, work_per_sample

DEEP = {"depth": 512, "width": 4, "batch_size": 128, "alpha": 0.2, "shuffle": False}


def against_plain_code(data: dict, settings: dict) -> list[Comparison]:
    """Online ed_matrix against ed_neuron on seed 000's network, and ed_deep against one product and
    one update call per layer."""
    mnist01 = data["mnist01"]
    params = {"hidden": [16] * 10, "alpha": 0.1, "shuffle": False}
    n_base, n_cand = settings["ed_neuron_samples"], settings["ed_matrix_samples"]
    online = Comparison(
        name="ed_matrix_vs_ed_neuron",
        workload=Workload(dataset=data["dataset"], task="mnist01", network="784-(16x10)-1", activation="sigmoid",
                          samples=n_cand, epochs=1, batch_size=1, threads=1, dtype="float64", scheme="faithful"),
        baseline=Implementation(name="ed_neuron", amount=n_base, build=method_trainer(
            "ed_neuron", params, mnist01.x_train, mnist01.y_train, 2)),
        candidate=Implementation(name="ed_matrix (online)", amount=n_cand, build=method_trainer(
            "ed_matrix", params, mnist01.x_train, mnist01.y_train, 2)),
        work=work_per_sample("ed_matrix", params, mnist01.x_train[:n_cand], 2),
        tolerance=0.0, check=f"max |dw| = 0 (bit for bit) after the same {n_base} samples", check_amount=n_base,
        difference="max_abs", floor=500.0)

    n = 128 * settings["ed_deep_batches"]
    x01, y01 = mnist01.x_train[:n], mnist01.y_train[:n]
    deep = Comparison(
        name="ed_deep_vs_layer_by_layer",
        workload=Workload(dataset=data["dataset"], task="mnist01", network="784-(4x512)-1", activation="sigmoid",
                          samples=n, epochs=1, batch_size=128, threads=1, dtype="float64", scheme="faithful"),
        baseline=Implementation(name="layer-by-layer ED", amount=n, build=layer_by_layer_ed(DEEP, x01, y01, 128)),
        candidate=Implementation(name="ed_deep", amount=n, build=method_trainer("ed_deep", DEEP, x01, y01, 2)),
        work=work_per_sample("ed_deep", DEEP, x01, 2),
        tolerance=1e-9, check="max |dw| <= 1e-9 after one batch of 128", check_amount=128, difference="max_abs",
        floor=5.0)
    return [online, deep]


def on_two_threads(data: dict, settings: dict) -> list[Comparison]:
    """ed_matrix and ed_deep on 2 numba threads against 1: the same weights, sooner."""
    n = settings["ed_parallel_samples"]
    mnist10 = data["mnist10"]
    x10, y10 = mnist10.x_train[:n], mnist10.y_train[:n]
    out = []
    for method, params, network in (("ed_matrix", {"hidden": [64], "shuffle": False}, "784-64-1 x10"),
                                    ("ed_deep", DEEP, "784-(4x512)-1 x10")):
        amount = n if method == "ed_matrix" else max(128, n // 128 * 128)
        trainer = method_trainer(method, params, x10, y10, 10)
        out.append(Comparison(
            name=f"{method}_mnist10_2t_vs_1t",
            workload=Workload(dataset=data["dataset"], task="mnist10", network=network, activation="sigmoid",
                              samples=amount, epochs=1, batch_size=params.get("batch_size", 1), threads=2,
                              dtype="float64", scheme="2 threads", baseline_scheme="1 thread"),
            baseline=Implementation(name=f"{method} (1 thread)", amount=amount, build=on_numba_threads(1, trainer)),
            candidate=Implementation(name=f"{method} (2 threads)", amount=amount, build=on_numba_threads(2, trainer)),
            work=work_per_sample(method, params, x10[:amount], 10),
            tolerance=0.0, check="max |dw| = 0: the same weights on 1 and 2 threads", check_amount=amount,
            difference="max_abs", floor=1.7))
    return out


def in_float32(data: dict, settings: dict) -> Comparison:
    """ed_deep (bidirectional) in float32 against float64."""
    double = {**DEEP, "rule": "bidirectional"}
    return _deep_against_deep(
        data, settings, "ed_deep_float32_vs_float64", ("float64", double), ("float32", {**double, "dtype": "float32"}),
        network="784-(4x512)-1", dtype="float32",
        tolerance=1e-4, check="relative weight difference <= 1e-4 after one batch (float32 rounding)",
        check_amount=128, difference="relative", floor=1.6)


def by_width(data: dict, settings: dict) -> Comparison:
    """ed_deep at width 8 against width 4, the issue's goal as the floor: per sample width 8 may cost
    at most 2.2 times width 4. A layer's sigmoids grow with its width but its weights with width
    times (2 + width), so where the sigmoids are cheap the least work grows faster: compare the
    ratio with the two rows' ``bound_per_s``. The networks differ, so their results are not
    compared."""
    return _deep_against_deep(
        data, settings, "ed_deep_width8_vs_width4", ("width 4", DEEP), ("width 8", {**DEEP, "width": 8}),
        network="784-(8x512)-1", dtype="float64",
        tolerance=None, check="not compared: two different networks", floor=round(1 / 2.2, 3))


def _deep_against_deep(data: dict, settings: dict, name: str, baseline: tuple[str, dict], candidate: tuple[str, dict],
                       network: str, dtype: str, **check) -> Comparison:
    """ed_deep against itself with one setting changed, on 0 vs 1 in batches of 128: ``baseline`` and
    ``candidate`` are (label, params); ``check`` holds the row's tolerance, check and floor."""
    (base_label, base_params), (cand_label, cand_params) = baseline, candidate
    amount = 128 * settings["ed_deep_batches"]
    x01, y01 = data["mnist01"].x_train[:amount], data["mnist01"].y_train[:amount]
    return Comparison(
        name=name,
        workload=Workload(dataset=data["dataset"], task="mnist01", network=network, activation="sigmoid",
                          samples=amount, epochs=1, batch_size=128, threads=1, dtype=dtype, scheme=cand_label,
                          baseline_scheme=base_label),
        baseline=Implementation(name=f"ed_deep ({base_label})", amount=amount,
                                build=method_trainer("ed_deep", base_params, x01, y01, 2)),
        candidate=Implementation(name=f"ed_deep ({cand_label})", amount=amount,
                                 build=method_trainer("ed_deep", cand_params, x01, y01, 2)),
        work=work_per_sample("ed_deep", cand_params, x01, 2), **check)


def in_minibatches(data: dict, settings: dict) -> list[Comparison]:
    """ed_matrix's compiled minibatches (non-zero inputs only) on ten digits: against its NumPy path
    over every input (the same weights to rounding; at batch 32 at least 1.5 times as fast), and
    against its own online training (per epoch at most 1.5 times its cost, so that batch size can
    join ED's search without costing the search more than 1.5 times)."""
    amount = settings["ed_minibatch_samples"]
    mnist10 = data["mnist10"]
    x10, y10 = mnist10.x_train[:amount], mnist10.y_train[:amount]
    online = {"hidden": [64], "shuffle": False}
    out = []
    for batch in (32, 128):
        params = {**online, "batch_size": batch}
        workload = Workload(dataset=data["dataset"], task="mnist10", network="784-64-1 x10", activation="sigmoid",
                            samples=amount, epochs=1, batch_size=batch, threads=1, dtype="float64",
                            scheme="faithful")
        candidate = Implementation(name=f"ed_matrix (batch {batch})", amount=amount,
                                   build=method_trainer("ed_matrix", params, x10, y10, 10))
        work = work_per_sample("ed_matrix", params, x10, 10)
        out.append(Comparison(
            name=f"ed_matrix_sparse_vs_dense_b{batch}",
            workload=workload,
            baseline=Implementation(name=f"ed_matrix NumPy path (batch {batch})", amount=amount,
                                    build=numpy_minibatch_trainer(params, x10, y10, 10)),
            candidate=candidate, work=work, tolerance=1e-9,
            check="relative weight difference <= 1e-9 after the same 256 samples (the two sum in other orders)",
            check_amount=256, difference="relative", floor=1.5 if batch == 32 else None))
        out.append(Comparison(
            name=f"ed_matrix_b{batch}_vs_online",
            workload=dataclasses.replace(workload, scheme=f"batch {batch}", baseline_scheme="online"),
            baseline=Implementation(name="ed_matrix (online)", amount=amount,
                                    build=method_trainer("ed_matrix", online, x10, y10, 10)),
            candidate=candidate, work=work, tolerance=None,
            check="not compared: minibatches and online learning reach different weights", floor=round(1 / 1.5, 3)))
    return out


def against_pytorch_ed(data: dict, settings: dict) -> list[Comparison]:
    """ed_matrix against ED written in PyTorch, online and in minibatches of 128, in both dtypes."""
    compile_torch = bool(settings["torch_ed_compile"])
    out = []
    for task, n_classes in (("mnist01", 2), ("mnist10", 10)):
        problem = data[task]
        for batch in (1, 128):
            for dtype, tolerance in (("float64", 1e-9), ("float32", 1e-2)):
                amount = settings["torch_ed_online_samples"] if batch == 1 else 128 * settings["torch_ed_batches"]
                params = {"hidden": [64], "batch_size": batch, "dtype": dtype, "shuffle": False}
                xs, ys = problem.x_train[:amount], problem.y_train[:amount]
                checked = min(amount, 32 if (batch == 1 and dtype == "float32") else 128)
                mode = "online" if batch == 1 else f"b{batch}"
                out.append(Comparison(
                    name=f"ed_matrix_vs_pytorch_ed_{mode}_{task}_{dtype}",
                    workload=Workload(dataset=data["dataset"], task=task,
                                      network=f"784-64-1 x{1 if n_classes == 2 else n_classes}", activation="sigmoid",
                                      samples=amount, epochs=1, batch_size=batch, threads=1, dtype=dtype,
                                      scheme="faithful"),
                    baseline=Implementation(name="torch ED" + (" (compiled)" if compile_torch else ""), amount=amount,
                                            build=torch_ed_trainer(params, xs, ys, n_classes, compile_torch)),
                    candidate=Implementation(name="ed_matrix", amount=amount,
                                             build=method_trainer("ed_matrix", params, xs, ys, n_classes)),
                    work=work_per_sample("ed_matrix", params, xs, n_classes),
                    tolerance=tolerance,
                    check=f"relative weight difference <= {tolerance:g} after the same {checked} samples "
                          "(float32: two roundings of the same rule, which drift apart online)",
                    check_amount=checked, difference="relative", floor=1.5))
    return out
