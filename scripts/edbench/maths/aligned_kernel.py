"""``aligned.empty`` for compiled code: numba's own arrays start on 32 bytes, not on a cache line."""
import numba
import numpy as np

from edbench.maths.aligned import CACHE_LINE


@numba.njit(cache=True)
def empty_like_line(n, like):
    """In compiled code: n values of ``like``'s type whose first starts a cache line (1-D; reshape a
    contiguous result for more)."""
    per_line = CACHE_LINE // like.itemsize
    raw = np.empty(n + per_line, dtype=like.dtype)
    skip = (CACHE_LINE - raw.ctypes.data % CACHE_LINE) % CACHE_LINE // like.itemsize
    return raw[skip:skip + n]
