"""A vectorisable exp for numba loops.

numba calls the C library's exp one element at a time; this version is branch-free arithmetic
(range reduction by ln 2, a degree-13 Taylor polynomial, and 2**k built from its bits), so LLVM
turns the loop into SIMD code. It agrees with numpy.exp to within 2 units in the last place
(tests/test_kernels.py); inputs are clamped to [-700, 700].
"""
from __future__ import annotations

import numba
import numpy as np

LOG2E = 1.4426950408889634
LN2_HI = 0.6931471803691238
LN2_LO = 1.9082149292705877e-10
INV_FACTORIALS = tuple(1.0 / float(np.prod(np.arange(1, n + 1))) for n in range(14))


@numba.njit(cache=True, inline="always")
def _polynomial(r):
    c = INV_FACTORIALS
    return c[0] + r * (c[1] + r * (c[2] + r * (c[3] + r * (c[4] + r * (c[5] + r * (c[6] + r * (
        c[7] + r * (c[8] + r * (c[9] + r * (c[10] + r * (c[11] + r * (c[12] + r * c[13]))))))))))))


@numba.njit(cache=True)
def exp_into(x, out, scratch):
    """out[:] = exp(x[:]); ``scratch`` is an int64 buffer of the same length."""
    powers = scratch.view(np.float64)
    for n in range(x.size):
        value = min(max(x[n], -700.0), 700.0)
        k = np.floor(value * LOG2E + 0.5)
        r = (value - k * LN2_HI) - k * LN2_LO
        out[n] = _polynomial(r)
        scratch[n] = (np.int64(k) + 1023) << 52
    for n in range(x.size):
        out[n] *= powers[n]
