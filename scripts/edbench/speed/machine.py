"""The machine's limits, measured in the same run as the rows, and the bound each row meets first.

The limits are the compute peak (the better of a matrix product and a loop of multiply-adds in
registers), the vectorised and the scalar sigmoid's throughput, memory bandwidth over each row's own
working set, so that weights which stay in cache get cache bandwidth and large ones DRAM's, and how
much faster a multiply-add runs fused than as a multiply and an add rounded apart. Every row gets
the ``bound`` its arithmetic, bytes and sigmoids per unit of work meet first (a roofline) and the
``fraction_of_bound`` the candidate reaches. Each limit is its probe's fastest timing, and so is the
fraction's rate (``candidate_fastest_per_s``): timing noise only adds time, and a median rate
against a fastest-timing limit counted the machine's noise against the kernel. A bound is an upper
limit: each count is the least the candidate's algorithm must do (never the baseline's work), so a
fraction above 1 means the model is wrong. Every measuring array starts on a cache line, as the
kernels' do: a vector load across two lines costs two, and NumPy's 16-byte alignment would leave it
to chance which loads do.
"""
from __future__ import annotations

import math
import threading
import time

import numpy as np

from edbench import threads as thread_settings
from edbench.maths import aligned
from edbench.speed.comparison import Comparison

DRAM_BYTES = 256 * 2 ** 20   # a working set far beyond the caches, recorded for reference


def matmul_peak(dtype, threads: int, size: int = 1024, repeats: int = 5) -> float:
    """GFLOP/s of a square matrix product at ``threads``."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size)).astype(dtype)
    b = rng.random((size, size)).astype(dtype)
    with thread_settings.limited(threads):
        a @ b
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start)
    return 2 * size ** 3 / min(times) / 1e9


def multiply_add_peak(dtype, threads: int, size: int = 4096, least: int = 1 << 28, repeats: int = 5) -> float:
    """GFLOP/s of fused multiply-adds over values in cache (``stream_kernel.fused_multiply_add_passes``),
    an array per thread and the threads at once: the floating-point units' pace with nothing else to
    wait for. A matrix product also packs and loads its blocks, and the BLAS's kernel is written for
    some other core than this one: on an AMD EPYC here, OpenBLAS's product ran 12-16% below this loop,
    and ``ed_deep`` at width 8 measured 0.87-1.01 of a bound set by the product alone."""
    from edbench.speed.stream_kernel import MULTIPLY_ADDS, fused_multiply_add_passes

    operands = [_multiply_add_operands(size, dtype) for _ in range(threads)]
    passes = max(1, least // (size * MULTIPLY_ADDS))
    x, a, b = operands[0]
    fused_multiply_add_passes(x[:64], a, b, 1)
    seconds = _timed_together(fused_multiply_add_passes, [(x, a, b, passes) for x, a, b in operands], repeats)
    return 2 * MULTIPLY_ADDS * size * passes * threads / seconds / 1e9


def _multiply_add_operands(size: int, dtype) -> tuple:
    """(x, a, b) for the loop x <- x * a + b: ``size`` ones on a cache line, and a and b in their type,
    so that each pass leaves the values in [1, 2]."""
    x = aligned.ones(size, dtype)
    return x, x.dtype.type(0.5), x.dtype.type(1.0)


def compute_peak(dtype, threads: int) -> dict:
    """The compute limit ``{dtype}_{threads}t``: the better of the matrix product (``matmul_…``) and
    the multiply-add loop (``multiply_add_…``), each recorded beside it."""
    rates = {f"matmul_{dtype}_{threads}t": matmul_peak(dtype, threads),
             f"multiply_add_{dtype}_{threads}t": multiply_add_peak(dtype, threads)}
    return {f"{dtype}_{threads}t": max(rates.values()), **rates}


def _timed_together(kernel, argument_sets: list[tuple], repeats: int) -> float:
    """The best of ``repeats`` wall times of ``kernel`` run on every argument set at once, one thread
    each (the first in this one), after one round untimed."""
    times = []
    for _ in range(repeats + 1):
        workers = [threading.Thread(target=kernel, args=args) for args in argument_sets[1:]]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        kernel(*argument_sets[0])
        for worker in workers:
            worker.join()
        times.append(time.perf_counter() - start)
    return min(times[1:])


def memory_bandwidth(working_set_bytes: float, threads: int = 1, repeats: int = 5,
                     least_bytes: int = 64 * 2 ** 20) -> float:
    """GB/s streaming over ``working_set_bytes`` split over ``threads`` threads, the better of a read
    and a read-modify-write pass (``stream_rates``)."""
    return max(stream_rates(working_set_bytes, threads, repeats, least_bytes))


def stream_rates(working_set_bytes: float, threads: int = 1, repeats: int = 5,
                 least_bytes: int = 64 * 2 ** 20) -> tuple[float, float]:
    """GB/s streaming over ``working_set_bytes`` split over ``threads`` threads: a read pass, and a
    read-modify-write pass (bytes read plus bytes written), each repeated in one compiled call until
    ``least_bytes`` per thread have moved (eight times as many where threads share the timing: they
    start one after another, and over 64 MB a thread the skew took 10-30% off two threads' rate
    here, 218-252 against 322 GB/s read over 800 KB each). A working set that fits a cache gets
    that cache's bandwidth, a large one DRAM's."""
    from edbench.speed.stream_kernel import read_stream, update_stream

    least_bytes = least_bytes * (8 if threads > 1 else 1)
    n = max(int(working_set_bytes) // threads // 8, 64)
    arrays = [aligned.ones(n) for _ in range(threads)]
    passes = max(1, math.ceil(least_bytes / (8 * n)))
    rates = []
    for kernel, touches in ((read_stream, 1), (update_stream, 2)):
        kernel(arrays[0][:64], 1)
        seconds = _timed_together(kernel, [(a, passes) for a in arrays], repeats)
        rates.append(touches * 8 * n * threads * passes / seconds / 1e9)
    return rates[0], rates[1]


def vector_sigmoid_throughput(dtype, size: int = 4096, least: int = 1 << 22, repeats: int = 5) -> float:
    """Sigmoids per second as the vectorised kernels compute a cell's output, 1 / (1 + exp(x)) in one
    pass (``exp_kernel.sigmoid_into``), one thread, over ``size`` values that stay in cache (as a
    layer's sums do in the kernels), into an array allocated once: a fresh allocation per call of a
    million values measured page faults and cache misses, not the sigmoid (118 against about 1,300
    million float64 exps a second on this machine)."""
    from edbench.speed.stream_kernel import vector_sigmoid_passes

    x = aligned.copy(np.random.default_rng(0).normal(0, 3, size).astype(dtype))
    out = aligned.empty(size, dtype)
    return _rate(lambda passes: vector_sigmoid_passes(x, out, passes), size, least, repeats)


def scalar_sigmoid_throughput(dtype, size: int = 4096, least: int = 1 << 20, repeats: int = 5) -> float:
    """Sigmoids per second of ``rule.sigmoid_scalar``, one thread: the C library's tanh, one value at
    a time, which the kernels that match ed_neuron bit for bit call for every cell."""
    from edbench.speed.stream_kernel import scalar_sigmoid_passes

    x = aligned.copy(np.random.default_rng(0).normal(0, 3, size).astype(dtype))
    out = aligned.empty(size, dtype)
    u0 = x.dtype.type(1.0)
    return _rate(lambda passes: scalar_sigmoid_passes(x, out, u0, passes), size, least, repeats)


def fused_gain(dtype, size: int = 4096, least: int = 1 << 22, repeats: int = 5) -> float:
    """How many times faster the floating-point units run multiply-adds fused (one instruction, one
    rounding) than as a multiply and then an add, one thread, over values in cache: the price of
    matching another code's rounding to the bit. The compute peak counts fused ones; a core whose
    adds have units of their own beside the multipliers pays less than 2 (1.6-1.7 on an Intel
    Sapphire Rapids here, 1.28 on an AMD EPYC)."""
    from edbench.speed.stream_kernel import MULTIPLY_ADDS, fused_multiply_add_passes, separate_multiply_add_passes

    rates = []
    for kernel in (fused_multiply_add_passes, separate_multiply_add_passes):
        x, a, b = _multiply_add_operands(size, dtype)
        rates.append(_rate(lambda passes, k=kernel, x=x, a=a, b=b: k(x, a, b, passes), size, least // MULTIPLY_ADDS,
                           repeats))
    return rates[0] / rates[1]


def _rate(run, size: int, least: int, repeats: int) -> float:
    """Values per second of ``run(passes)`` over ``size`` values a pass, at least ``least`` values a
    timing, the best of ``repeats`` after one call that compiles and warms."""
    passes = max(1, least // size)
    run(1)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(passes)
        times.append(time.perf_counter() - start)
    return size * passes / min(times)


def roofline(arithmetic: float, traffic: float, exps: float, limits: dict, scalar_sigmoids: float = 0.0,
             separate_multiply_adds: float = 0.0, rewritten: float = 0.0) -> tuple[str, float]:
    """The limit met first and the rate (units per second) it allows.

    The arithmetic, the vectorised and the scalar sigmoids all run on the core's floating-point
    units, so their times add; memory traffic moves through the load and store units beside them,
    so the slower of the two sets the bound. Of the core's parts, the largest names the bound.
    ``separate_multiply_adds`` of the arithmetic's multiply-adds (2 flops each) are rounded apart:
    they run ``limits["fused_gain"]`` times slower than the peak's fused ones. ``rewritten`` bytes of
    the traffic are read and written back in place: they move at ``limits["update_bandwidth_gbs"]``
    (the read-modify-write rate), the rest at ``limits["bandwidth_gbs"]``."""
    fused = arithmetic - 2 * separate_multiply_adds
    separate = 2 * separate_multiply_adds * limits.get("fused_gain", 1.0)
    core = {"compute": (fused + separate) / (limits["gflops"] * 1e9),
            "sigmoid": exps / limits["vector_sigmoids_per_s"]
            + scalar_sigmoids / limits.get("scalar_sigmoids_per_s", math.inf)}
    update_rate = limits.get("update_bandwidth_gbs") or limits.get("bandwidth_gbs")
    memory = ((traffic - rewritten) / limits["bandwidth_gbs"] + rewritten / update_rate) / 1e9 if traffic else 0.0
    core_seconds = sum(core.values())
    if memory > core_seconds:
        return "memory", 1.0 / memory
    bound = max(core, key=core.get)
    return bound, 1.0 / core_seconds if core_seconds > 0 else float("inf")


def bandwidth_key(working_set: float, threads: int) -> str:
    return f"memory_bandwidth_gbs_{int(working_set)}B_{threads}t"


def update_bandwidth_key(working_set: float, threads: int) -> str:
    return f"update_bandwidth_gbs_{int(working_set)}B_{threads}t"


def machine_limits(plan: list[Comparison], thread_counts) -> dict:
    """The compute peak per dtype and thread count (``compute_peak``), the bandwidth over every working
    set the plan streams (and DRAM's, for reference) at its rows' threads, the sigmoids' throughputs
    and the fused multiply-add's gain, per dtype."""
    limits = {key: rate for dtype in ("float32", "float64") for t in thread_counts
              for key, rate in compute_peak(dtype, t).items()}
    streams = {(DRAM_BYTES, 1)} | {(c.work.streamed_set(c.workload.threads), c.workload.threads)
                                   for c in plan if c.work.traffic}
    for working_set, threads in sorted(streams):
        read, update = stream_rates(working_set, threads)
        limits[bandwidth_key(working_set, threads)] = read
        limits[update_bandwidth_key(working_set, threads)] = update
    for dtype in ("float32", "float64"):
        limits[f"vector_sigmoid_{dtype}_per_s"] = vector_sigmoid_throughput(dtype)
        limits[f"scalar_sigmoid_{dtype}_per_s"] = scalar_sigmoid_throughput(dtype)
        limits[f"fused_gain_{dtype}"] = fused_gain(dtype)
    return limits


def add_bound(row: dict, limits: dict) -> None:
    """The row's share of the compute peak, the bandwidth its working set gets, and its
    roofline: the bound met first, the rate it allows and the fraction of it the candidate reaches."""
    peak = limits[f"{row['dtype']}_{row['threads']}t"]
    row["peak_gflops"] = peak
    row["candidate_fraction_of_peak"] = row["candidate_gflops"] / peak
    row["baseline_fraction_of_peak"] = row["baseline_gflops"] / peak
    streams = row["working_set_bytes"], row["threads"]
    row["bandwidth_gbs"] = limits[bandwidth_key(*streams)] if row["bytes_per_unit"] else None
    row["update_bandwidth_gbs"] = limits[update_bandwidth_key(*streams)] if row["bytes_per_unit"] else None
    rates = {"gflops": peak, "bandwidth_gbs": row["bandwidth_gbs"], "update_bandwidth_gbs": row["update_bandwidth_gbs"],
             "vector_sigmoids_per_s": limits[f"vector_sigmoid_{row['dtype']}_per_s"] * row["threads"],
             "scalar_sigmoids_per_s": limits[f"scalar_sigmoid_{row['dtype']}_per_s"] * row["threads"],
             "fused_gain": limits[f"fused_gain_{row['dtype']}"]}
    row["bound"], row["bound_per_s"] = roofline(row["arithmetic_per_unit"], row["bytes_per_unit"],
                                                row["exps_per_unit"], rates, row["scalar_sigmoids_per_unit"],
                                                row["separate_multiply_adds_per_unit"],
                                                row["rewritten_bytes_per_unit"])
    row["fraction_of_bound"] = row["candidate_fastest_per_s"] / row["bound_per_s"]
