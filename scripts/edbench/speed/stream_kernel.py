"""The speed benchmark's measuring loops (``machine``): for memory bandwidth, a sum over an array and
an in-place update of it, each repeated ``passes`` times in one call, without the GIL so that
several threads can stream at once; for the sigmoids' rates, the vectorised sigmoid (exp, then
1 / (1 + e)) and the C library's scalar sigmoid over a small array again and again, as the kernels
run them over one layer's cells; and for the cost of rounding a multiply and an add apart, one loop
of multiply-adds compiled twice, fused and not (the fused one also sets the compute peak, a thread each)."""
import numba

from edbench.maths.exp_kernel import sigmoid_into
from edbench.methods.ed import rule_kernel


@numba.njit(nogil=True, fastmath=True, cache=True)
def read_stream(values, passes):
    total = 0.0
    for _ in range(passes):
        for i in range(values.size):
            total += values[i]
    return total


@numba.njit(nogil=True, fastmath=True, cache=True)
def update_stream(values, passes):
    for _ in range(passes):
        for i in range(values.size):
            values[i] = values[i] * 0.5 + 1.0
    return 0.0


@numba.njit(cache=True)
def vector_sigmoid_passes(values, out, passes):
    """1 / (1 + exp(values)) over ``values`` ``passes`` times, into an array allocated once, in one
    pass each (``exp_kernel.sigmoid_into``): the arithmetic ed_deep's stack runs on each vector of
    sums in registers."""
    for _ in range(passes):
        sigmoid_into(values, out)
    return out[0]


@numba.njit(cache=True)
def scalar_sigmoid_passes(values, out, u0, passes):
    """``rule.sigmoid_scalar`` (the C library's tanh, one value at a time) over ``values`` ``passes``
    times; ``u0`` in the values' type, as the kernels pass it (a float64 u0 would time the double
    tanh on float32 values)."""
    for _ in range(passes):
        for i in range(values.size):
            out[i] = rule_kernel.sigmoid_scalar(values[i], u0)
    return out[0]


MULTIPLY_ADDS = 8   # per value and pass of the loop below: enough for the floating-point units to set their pace


def _multiply_add_passes(values, a, b, passes):
    """values[i] <- values[i] * a + b, ``MULTIPLY_ADDS`` times per value and pass, over independent
    values, so that the loop vectorises and runs at the pace of the floating-point units, not of
    their latency."""
    for _ in range(passes):
        for i in range(values.size):
            y = values[i]
            for _ in range(MULTIPLY_ADDS):
                y = y * a + b
            values[i] = y
    return values[0]


# The loop compiled twice. With ``contract`` LLVM fuses each multiply and add into one instruction,
# rounded once; without it each is an instruction of its own, as in the kernels that match ed_neuron
# to the bit. Only one copy may use numba's cache: it keys a function by its name and line, not its
# flags, so a second cached copy would load the first's code.
fused_multiply_add_passes = numba.njit(cache=True, nogil=True, fastmath={"contract"})(_multiply_add_passes)
separate_multiply_add_passes = numba.njit(_multiply_add_passes)
