"""The compiled minibatch's own loops (``online_kernel`` runs them where ``batch`` > 1).

A minibatch holds the weights still while its samples run forward and matches no other code to
the bit (only the NumPy path, to rounding), so these loops are free to fold, fuse and reorder:
each layer's sigmoids through the vectorised exp over the whole batch at once, and a one-cell
layer (the output) summed and learned over every column as one vector loop (the first layer's
loops are ``first_layer_kernel``'s). Online training keeps ``ed_neuron``'s order and rounding
instead.
"""
from __future__ import annotations

import numba

from edbench.maths.exp_kernel import exp_into


@numba.njit(cache=True, error_model="numpy")
def batch_sigmoids(batch_sums, size, n, u0, rows, outputs, layer):
    """outputs[b, layer, i] = 1 / (1 + exp(-2 batch_sums[b, i] / u0)) for b < size and i < n, through
    the vectorised exp (``exp_kernel``) over all size x n values at once, ``rows`` its (2, size x n
    or more) scratch. One call a layer and batch, where each sample took one over its layer's
    cells and the output cell a scalar exp (a batch-128 float32 epoch about 3% faster). Kaneko's
    sigmoid in its own form, equal to ``rule.sigmoid_scalar``'s tanh form to rounding, not bit for
    bit."""
    real = batch_sums.dtype.type
    scale, one = real(-2.0 / u0), real(1.0)
    count = size * n
    scaled, e = rows[0, :count], rows[1, :count]
    for b in range(size):
        for i in range(n):
            scaled[b * n + i] = batch_sums[b, i] * scale
    exp_into(scaled, e)
    for b in range(size):
        for i in range(n):
            outputs[b, layer, i] = one / (one + e[b * n + i])


@numba.njit(cache=True, fastmath=True)
def one_cell_sum(weights, sources, n):
    """The sum over all n columns of weights[m, 0] * sources[m], in any order (``fastmath``): one
    vector loop, where the list of non-zero sources made a chain of dependent adds. A column that is
    not listed holds a source of 0 and adds nothing."""
    total = sources.dtype.type(0)
    for m in range(n):
        total += weights[m, 0] * sources[m]
    return total


@numba.njit(cache=True, fastmath=True)
def one_cell_learn(weights, sources, column_signs, slope, step, error, faithful, n):
    """A one-cell layer's step over all n columns as one vector loop: ``rule.learned`` with the
    faithful rule's signal (x_m s_m d for the columns whose sign matches the error's) or the
    bidirectional one's (x_m, the slope carrying e). A column whose step is zero (a source of 0, or
    under the faithful rule a sign that does not match) keeps its weight, as does a weight of 0.
    In the per-column loop, each learning column cost a branch and a call."""
    learning_sign = 1.0 if error > 0.0 else -1.0
    d = abs(error)
    zero = weights.dtype.type(0)
    for m in range(n):
        signal = sources[m]
        if faithful:
            signal = signal * column_signs[m] * d if column_signs[m] == learning_sign else zero
        weight = weights[m, 0]
        weights[m, 0] = weight + (slope * signal) * step if weight != zero else weight
