"""Every thread count the benchmark sets, in one place: the environment variables a job starts with,
the limits a process holds (BLAS and OpenMP pools, numba's pool, PyTorch's), temporary limits for
one block of work, and what the process reports in effect.

A timed job must use exactly the threads it was given: more would take cores from a job beside
it, fewer would time a different machine. Libraries size their pools at different moments (OpenBLAS
when loaded, numba when first imported, PyTorch when first asked), so each is set here when it can
be and checked after (``in_effect``).
"""
from __future__ import annotations

import contextlib
import os
import sys

# The variables a job's libraries read at start-up, before any code of ours runs.
ENVIRONMENT_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

_limit: int | None = None
_limiter = None
_blas_controller = None


def environment(threads: int) -> dict[str, str]:
    """The environment variables for a process that is to run on ``threads`` threads."""
    return {name: str(threads) for name in ENVIRONMENT_VARIABLES}


def shell_prefix(threads: int | str) -> str:
    """``environment`` as the assignments that start a shell command (the workflow's rules)."""
    return " ".join(f"{name}={threads}" for name in ENVIRONMENT_VARIABLES)


def limit(threads: int) -> None:
    """Hold this process to ``threads`` threads from now on: BLAS and OpenMP pools, numba's pool
    (sized now if numba is not yet imported) and PyTorch's (now if loaded, else when ``torch()``
    first imports it). Torch is not imported here: it costs about 2 s, more than a whole gates job."""
    global _limit, _limiter
    from threadpoolctl import threadpool_limits

    _limit = threads
    _limiter = threadpool_limits(limits=threads)   # held: the limit lasts while the limiter lives
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    if "numba" in sys.modules:
        numba = sys.modules["numba"]
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    else:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)


def current() -> int | None:
    """The limit ``limit`` last set in this process, if any."""
    return _limit


def torch():
    """PyTorch, imported on first use, held to this process's limit if one is set."""
    first = "torch" not in sys.modules
    import torch as module

    if first and _limit is not None:
        module.set_num_threads(_limit)
    return module


def size_numba_pool(most: int) -> None:
    """Size numba's pool for blocks of up to ``most`` threads (this machine's cores at most) and run
    on one thread outside them: numba sizes its pool when first imported, and a block can never
    use more threads than the pool holds."""
    os.environ["NUMBA_NUM_THREADS"] = str(min(most, os.cpu_count() or 1))
    import numba  # noqa: F401

    limit(1)


@contextlib.contextmanager
def limited(threads: int):
    """BLAS, numba and (if loaded) PyTorch held to ``threads`` for the block, then restored."""
    import numba
    from threadpoolctl import threadpool_limits

    blas = threadpool_limits(threads)
    numba_before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    loaded = sys.modules.get("torch")
    torch_before = loaded.get_num_threads() if loaded is not None else None
    if loaded is not None:
        loaded.set_num_threads(threads)
    try:
        yield
    finally:
        numba.set_num_threads(numba_before)
        if loaded is not None:
            loaded.set_num_threads(torch_before)
        blas.restore_original_limits()


@contextlib.contextmanager
def numba_threads(threads: int):
    """numba's pool held to ``threads`` for the block (BLAS and PyTorch as they are)."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def one_blas_thread():
    """A context holding BLAS to one thread, for code that spreads its own work over numba's threads
    (the controller is found once: it costs milliseconds)."""
    global _blas_controller
    if _blas_controller is None:
        # SciPy's own OpenBLAS (ed_matrix's gemm) loads on first use: load it now, or the
        # controller found here would not know it and leave it on every thread.
        import scipy.linalg.blas  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


def in_effect() -> dict:
    """The thread counts this process reports now: each BLAS/OpenMP pool (threadpoolctl) and PyTorch's."""
    from threadpoolctl import threadpool_info

    pools = sorted({(pool["user_api"], pool["internal_api"], pool["num_threads"]) for pool in threadpool_info()})
    loaded = sys.modules.get("torch")   # only if the job imported it
    return {"threadpools": [{"api": api, "library": library, "threads": n} for api, library, n in pools],
            "torch": loaded.get_num_threads() if loaded is not None else None}


class CoreClaim:
    """CPUs this process holds for itself: a lock per CPU, shared by every edbench process on the
    machine, so timed jobs that run side by side (several workflows' included) never share a core.
    The locks are released when the claim is released or the process ends, however it ends."""

    def __init__(self, cpus: list[int], handles: list, waited: float, reason: str = ""):
        self.cpus = cpus
        self.handles = handles
        self.waited = waited
        self.reason = reason     # why the process runs unpinned, if it does

    @property
    def pinned(self) -> bool:
        return bool(self.handles)

    def record(self) -> dict:
        return {"cpus": self.cpus, "pinned": self.pinned, "waited_seconds": round(self.waited, 3),
                "unpinned_because": self.reason or None}

    def release(self) -> None:
        for handle in self.handles:
            handle.close()
        self.handles = []


def lock_directory() -> str:
    import tempfile

    return os.environ.get("EDBENCH_CORE_LOCKS") or os.path.join(tempfile.gettempdir(), f"edbench-cores-{os.getuid()}")


def claim_cores(count: int, wait_seconds: float = 60.0, poll_seconds: float = 0.2) -> CoreClaim:
    """Claim ``count`` CPUs of this process's affinity that no other edbench process holds, and pin
    every thread of this process to them (threads started later inherit it). Waits up to
    ``wait_seconds`` for CPUs to come free; then, or where CPUs cannot be locked or pinned, runs
    unpinned and says why. Call it before libraries start their thread pools."""
    import fcntl
    import time

    allowed = sorted(os.sched_getaffinity(0))
    if count > len(allowed):
        return CoreClaim(allowed, [], 0.0, f"{count} cores asked for, {len(allowed)} available")
    directory = lock_directory()
    try:
        os.makedirs(directory, exist_ok=True)
        master = open(os.path.join(directory, "claim.lock"), "a")
    except OSError as error:
        return CoreClaim(allowed, [], 0.0, f"no lock directory ({error})")
    start = time.monotonic()
    try:
        while True:
            fcntl.flock(master, fcntl.LOCK_EX)
            taken = []
            try:
                for cpu in allowed:
                    handle = open(os.path.join(directory, f"cpu{cpu}.lock"), "a")
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        handle.close()
                        continue
                    taken.append((cpu, handle))
                    if len(taken) == count:
                        break
            finally:
                fcntl.flock(master, fcntl.LOCK_UN)
            if len(taken) == count:
                break
            for _, handle in taken:
                handle.close()
            waited = time.monotonic() - start
            if waited >= wait_seconds:
                return CoreClaim(allowed, [], waited, f"no {count} free cores after {waited:.0f} s")
            time.sleep(poll_seconds)
    finally:
        master.close()
    cpus = [cpu for cpu, _ in taken]
    claim = CoreClaim(cpus, [handle for _, handle in taken], time.monotonic() - start)
    try:
        pin(cpus)
    except OSError as error:
        claim.release()
        return CoreClaim(allowed, [], claim.waited, f"pinning failed ({error})")
    return claim


def pin(cpus: list[int]) -> None:
    """Every thread of this process onto ``cpus`` (on Linux, affinity is per thread)."""
    tasks = os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ["0"]
    for task in tasks:
        try:
            os.sched_setaffinity(int(task), cpus)
        except ProcessLookupError:   # a thread that ended meanwhile
            pass
