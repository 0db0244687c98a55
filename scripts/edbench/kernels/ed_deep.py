"""Deep ED's two compiled loops (numba), for ``methods.ed_deep``'s stack of equal hidden layers.

- ``forward_stack``: layer after layer, with the minibatch as the innermost, contiguous axis so the
  products and the sigmoid (through ``fastmath.exp_into``) run as SIMD;
- ``learn_stack``: the whole stack at once, since under ED a layer's change needs only its own
  inputs and outputs and the broadcast error.
"""
from __future__ import annotations

import numba
import numpy as np

from .fastmath import exp_into


def forward_stack(stack, outputs, beta, u0):
    """outputs[l + 1, k, i, :] = f(stack[l, k, i] . [beta, beta, outputs[l, k, :, b]]) for every b.

    outputs is (layers + 1, K, width, B); outputs[0] holds the first hidden layer. The K networks
    are independent: several go to numba's threads, each computing exactly what it would alone.
    """
    if stack.shape[1] > 1 and numba.get_num_threads() > 1:
        _forward_parallel(stack, outputs, beta, u0)
    else:
        _forward_serial(stack, outputs, beta, u0)


@numba.njit(cache=True)
def _forward_serial(stack, outputs, beta, u0):
    for k in range(stack.shape[1]):
        _forward_network(k, stack, outputs, beta, u0)


@numba.njit(cache=True, parallel=True)
def _forward_parallel(stack, outputs, beta, u0):
    for k in numba.prange(stack.shape[1]):
        _forward_network(k, stack, outputs, beta, u0)


@numba.njit(cache=True, error_model="numpy")  # no zero-divisor check, so 1 / (1 + e) runs as SIMD
def _forward_network(k, stack, outputs, beta, u0):
    layers, networks, width, _ = stack.shape
    batch = outputs.shape[3]
    real = outputs.dtype.type
    scale, beta, one = real(-2.0 / u0), real(beta), real(1.0)
    # One layer's sums as one (width * batch) row, so the exp runs over all its cells at once.
    u = np.empty(width * batch, dtype=outputs.dtype)
    e = np.empty(width * batch, dtype=outputs.dtype)
    scratch = np.empty(width * batch, dtype=outputs.dtype)
    for layer in range(layers):
        sources = outputs[layer, k]
        for i in range(width):
            w = stack[layer, k, i]
            bias = w[0] * beta + w[1] * beta
            row = u[i * batch:(i + 1) * batch]
            first, x = w[2], sources[0]
            for b in range(batch):
                row[b] = bias + first * x[b]
            for j in range(1, width):
                wj, x = w[2 + j], sources[j]
                for b in range(batch):
                    row[b] += wj * x[b]
            for b in range(batch):
                row[b] *= scale
        exp_into(u, e, scratch)
        out = outputs[layer + 1, k]
        for i in range(width):
            for b in range(batch):
                out[i, b] = one / (one + e[i * batch + b])


def learn_stack(stack, outputs, d_plus, d_minus, error, beta, step, cell_signs, faithful, connected):
    """stack[l] += change of hidden layer l + 1, from outputs[l] (its sources) and outputs[l + 1];
    several networks on numba's threads, as in ``forward_stack``."""
    args = (stack, outputs, d_plus, d_minus, error, beta, step, cell_signs, faithful, connected)
    if stack.shape[1] > 1 and numba.get_num_threads() > 1:
        _learn_parallel(*args)
    else:
        _learn_serial(*args)


@numba.njit(cache=True)
def _learn_serial(stack, outputs, d_plus, d_minus, error, beta, step, cell_signs, faithful, connected):
    for k in range(stack.shape[1]):
        _learn_network(k, stack, outputs, d_plus, d_minus, error, beta, step, cell_signs, faithful, connected)


@numba.njit(cache=True, parallel=True)
def _learn_parallel(stack, outputs, d_plus, d_minus, error, beta, step, cell_signs, faithful, connected):
    for k in numba.prange(stack.shape[1]):
        _learn_network(k, stack, outputs, d_plus, d_minus, error, beta, step, cell_signs, faithful, connected)


@numba.njit(cache=True, fastmath={"reassoc"})  # lets the sums over the minibatch vectorise
def _learn_network(k, stack, outputs, d_plus, d_minus, error, beta, step, cell_signs, faithful, connected):
    layers, networks, width, columns = stack.shape
    batch = outputs.shape[3]
    # Every constant in the stack's type: a Python float would turn float32 arithmetic into float64.
    real = stack.dtype.type
    beta, step, one = real(beta), real(step), real(1.0)
    g = np.empty((width, batch), dtype=stack.dtype)
    signal = np.empty((columns, batch), dtype=stack.dtype)
    # The bias cells' signals are the same in every layer.
    for b in range(batch):
        if faithful:
            signal[0, b] = beta * d_plus[k, b]
            signal[1, b] = -(beta * d_minus[k, b])
        else:
            signal[0, b] = beta
            signal[1, b] = beta
    for layer in range(layers):
        for i in range(width):
            o = outputs[layer + 1, k, i]
            sign = cell_signs[i]
            if faithful:
                for b in range(batch):
                    g[i, b] = o[b] * (one - o[b]) * sign
            else:
                for b in range(batch):
                    g[i, b] = o[b] * (one - o[b]) * sign * error[k, b]
        for j in range(width):
            x = outputs[layer, k, j]
            if not faithful:
                for b in range(batch):
                    signal[2 + j, b] = x[b]
            elif cell_signs[j] > 0:  # source j is cell j of the layer below, of the same type
                for b in range(batch):
                    signal[2 + j, b] = x[b] * d_plus[k, b]
            else:
                for b in range(batch):
                    signal[2 + j, b] = -(x[b] * d_minus[k, b])
        for i in range(width):
            for m in range(columns):
                if connected is not None and not connected[layer, k, i, m]:
                    continue
                total = real(0.0)
                for b in range(batch):
                    total += g[i, b] * signal[m, b]
                stack[layer, k, i, m] += total * step
