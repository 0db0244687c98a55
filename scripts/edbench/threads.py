"""Every thread count the benchmark sets, in one place: the environment variables a job starts with,
the limits a process holds (BLAS and OpenMP pools, numba's pool, PyTorch's), temporary limits for
one block of work, and what the process reports in effect.

A timed job must use exactly the threads it was given: more would take cores from a job beside
it, fewer would time a different machine. Libraries size their pools at different moments (OpenBLAS
when loaded, numba when first imported, PyTorch when first asked), so each is set here when it can
be and checked after (``in_effect``).

A workflow's training jobs run side by side when each can have cores of its own
(``timed_jobs_at_once``): each claims its cores (``claim_cores``) and runs on no more threads than
Snakemake granted it (``Placement``).
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass

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
    every thread of this process to them (threads started later inherit it). Claims take turns:
    the process whose turn it is keeps the CPUs it finds free and waits for the rest, so a job
    that needs several cores is not starved by one-core jobs taking each core as it comes free.
    Waits up to ``wait_seconds`` in all; then, or where CPUs cannot be locked or pinned, runs
    unpinned and says why. Call it before libraries start their thread pools."""
    import time

    allowed = sorted(os.sched_getaffinity(0))
    if count > len(allowed):
        return CoreClaim(allowed, [], 0.0, f"{count} cores asked for, {len(allowed)} available")
    directory = lock_directory()
    try:
        os.makedirs(directory, exist_ok=True)
        turn = open(os.path.join(directory, "claim.lock"), "a")
    except OSError as error:
        return CoreClaim(allowed, [], 0.0, f"no lock directory ({error})")
    start = time.monotonic()
    deadline = start + wait_seconds
    taken: dict[int, object] = {}
    with turn:   # closing it ends this process's turn
        if _poll(lambda: _locked(turn), deadline, poll_seconds):
            _poll(lambda: _take_free(directory, allowed, count, taken), deadline, poll_seconds)
    waited = time.monotonic() - start
    if len(taken) < count:
        for handle in taken.values():
            handle.close()
        return CoreClaim(allowed, [], waited, f"no {count} free cores after {waited:.0f} s")
    cpus = sorted(taken)
    claim = CoreClaim(cpus, [taken[cpu] for cpu in cpus], waited)
    try:
        pin(cpus)
    except OSError as error:
        claim.release()
        return CoreClaim(allowed, [], claim.waited, f"pinning failed ({error})")
    return claim


def _locked(handle) -> bool:
    """Whether this process now holds the lock on ``handle`` (it does not wait for it)."""
    import fcntl

    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _take_free(directory: str, allowed: list[int], count: int, taken: dict) -> bool:
    """Add to ``taken`` (CPU to its held lock file) the free CPUs of ``allowed``, up to ``count``;
    whether it now holds ``count``."""
    for cpu in allowed:
        if len(taken) == count:
            break
        if cpu not in taken:
            handle = open(os.path.join(directory, f"cpu{cpu}.lock"), "a")
            if _locked(handle):
                taken[cpu] = handle
            else:
                handle.close()
    return len(taken) == count


def _poll(ready, deadline: float, poll_seconds: float) -> bool:
    """Call ``ready`` until it answers True (then True) or the monotonic clock passes ``deadline``."""
    import time

    while not ready():
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_seconds)
    return True


def usable_cpus() -> int:
    """How many CPUs this process may run on (its affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def timed_jobs_at_once(cores: int | None, threads: int, cap: int | None, most: int) -> int:
    """How many timed jobs a workflow runs at once: one per ``threads`` of the ``cores`` Snakemake is
    given, counting no more cores than this machine lets the process use; ``most`` where no cores
    are given (a cluster, whose jobs have cores of their own); never more than ``cap`` (the config's
    ``timed_jobs_at_once``) when one is set; at least one."""
    slots = most if cores is None else min(cores, usable_cpus()) // threads
    return max(1, min(slots, cap) if cap is not None else slots)


@dataclass(frozen=True)
class Placement:
    """What a training process was given to run on: the threads Snakemake granted its job (None
    outside the workflow, where a run gets what it asks for) and the cores it claimed (None if it
    claimed none). A run that asks for more threads than its job was granted, or than the
    process may use, runs on fewer, and says so."""
    granted: int | None = None
    cores: CoreClaim | None = None

    def threads_for(self, asked: int) -> int:
        if self.granted is None:
            return asked
        return min(asked, self.granted, len(self.cores.cpus) if self.cores else usable_cpus())

    def warn_if_clamped(self, asked: int, label: str) -> None:
        used = self.threads_for(asked)
        if used < asked:
            logging.getLogger("edbench.threads").warning(
                "%s asks for %d threads, but Snakemake granted its job %d and it may run on %d CPUs: it runs on %d",
                label, asked, self.granted, usable_cpus(), used)

    @property
    def waited_seconds(self) -> float:
        """How long the process waited for its cores (not part of its start-up)."""
        return self.cores.waited if self.cores else 0.0

    def record(self, asked: int) -> dict:
        """The thread counts, which a rerun with the same cores repeats."""
        return {"threads_asked": asked, "threads_granted": self.granted}

    def cores_record(self) -> dict | None:
        """The CPUs claimed and the wait for them, which vary from run to run."""
        return self.cores.record() if self.cores else None


# A process outside the workflow: nothing granted, no cores claimed; each run gets what it asks for.
AS_ASKED = Placement()


def pin(cpus: list[int]) -> None:
    """Every thread of this process onto ``cpus`` (on Linux, affinity is per thread)."""
    tasks = os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ["0"]
    for task in tasks:
        try:
            os.sched_setaffinity(int(task), cpus)
        except ProcessLookupError:   # a thread that ended meanwhile
            pass
