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
