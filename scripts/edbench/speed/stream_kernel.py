"""Streaming loops for the speed benchmark's memory bandwidth (``machine.memory_bandwidth``): a sum
over an array and an in-place update of it, each repeated ``passes`` times in one call, without the
GIL so that several threads can stream at once."""
import numba


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
