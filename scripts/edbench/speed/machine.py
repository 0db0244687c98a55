"""The machine's limits, measured in the same run as the rows, and the bound each row meets first.

The limits are the matrix-multiply peak, the vectorised exp's throughput, and memory bandwidth over
each row's own working set, so that weights which stay in cache get cache bandwidth and large ones
DRAM's. Every row gets the ``bound`` its arithmetic, bytes and exponentials per unit of work meet
first (a roofline) and the ``fraction_of_bound`` the candidate reaches. A bound is an upper limit:
each count is the least the candidate's algorithm must do (never the baseline's work), so a
fraction above 1 means the model is wrong.
"""
from __future__ import annotations

import math
import threading
import time

import numpy as np

from edbench import threads as thread_settings
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


def bandwidth_key(working_set: float, threads: int) -> str:
    return f"memory_bandwidth_gbs_{int(working_set)}B_{threads}t"


def machine_limits(plan: list[Comparison], thread_counts) -> dict:
    """The matrix-multiply peak per dtype and thread count, the bandwidth over every working set the
    plan streams (and DRAM's, for reference) at its rows' threads, and the exp's throughput."""
    limits = {f"{dtype}_{t}t": matmul_peak(dtype, t) for dtype in ("float32", "float64") for t in thread_counts}
    streams = {(DRAM_BYTES, 1)} | {(c.work.working_set, c.workload.threads) for c in plan if c.work.traffic}
    for working_set, threads in sorted(streams):
        limits[bandwidth_key(working_set, threads)] = memory_bandwidth(working_set, threads)
    for dtype in ("float32", "float64"):
        limits[f"exp_{dtype}_per_s"] = exp_throughput(dtype)
    return limits


def add_bound(row: dict, limits: dict) -> None:
    """The row's share of the matrix-multiply peak, the bandwidth its working set gets, and its
    roofline: the bound met first, the rate it allows and the fraction of it the candidate reaches."""
    peak = limits[f"{row['dtype']}_{row['threads']}t"]
    row["peak_gflops"] = peak
    row["candidate_fraction_of_peak"] = row["candidate_gflops"] / peak
    row["baseline_fraction_of_peak"] = row["baseline_gflops"] / peak
    row["bandwidth_gbs"] = limits[bandwidth_key(row["working_set_bytes"], row["threads"])] \
        if row["bytes_per_unit"] else None
    rates = {"gflops": peak, "bandwidth_gbs": row["bandwidth_gbs"],
             "exps_per_s": limits[f"exp_{row['dtype']}_per_s"] * row["threads"]}
    row["bound"], row["bound_per_s"] = roofline(row["arithmetic_per_unit"], row["bytes_per_unit"],
                                                row["exps_per_unit"], rates)
    row["fraction_of_bound"] = row["candidate_per_s"] / row["bound_per_s"]
