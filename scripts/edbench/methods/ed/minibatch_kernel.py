"""The compiled minibatch's own loops (``online_kernel`` runs them where ``batch`` > 1).

A minibatch holds the weights still while its samples run forward and matches no other code to
the bit (only the NumPy path, to rounding), so these loops are free to fold, fuse and reorder:
the first layer's column pairs folded once per batch and read, with the pixels' values, straight
from the compressed rows (no per-sample list to copy, for each of the networks), each layer's
sigmoids through the vectorised exp over the whole batch at once, and a one-cell layer (the output)
summed and learned over every column as one vector loop. Online training keeps ``ed_neuron``'s
order and rounding instead.
"""
from __future__ import annotations

import numba

from edbench.maths.exp_kernel import exp_into
from edbench.methods.ed import rule_kernel
from edbench.methods.ed.vector_kernel import listed_sums, listed_update, vector_update


@numba.njit(cache=True)
def fold_pairs(weights, folded):
    """folded[j] = weights[2j] + weights[2j + 1], the pair j's two columns (j = 0 the bias, 1 + p the
    pixel p): they see one value, so within a minibatch, where the weights hold still, a sample's
    sum over a pair is one product, x * (w+ + w-), not two (equal up to rounding)."""
    for j in range(folded.shape[0]):
        excitatory, inhibitory, into = weights[2 * j], weights[2 * j + 1], folded[j]
        for i in range(weights.shape[1]):
            into[i] = excitatory[i] + inhibitory[i]


@numba.njit(cache=True)
def first_layer_sums(folded, pixels, values, beta, sums):
    """A sample's first-layer sums from its compressed row: each non-zero pixel p's folded row
    (folded[1 + p]) times its value, then the bias pair's times beta."""
    listed_sums(folded[1:], pixels, values, sums)
    if beta != 0.0:
        bias = folded[0]
        for i in range(folded.shape[1]):
            sums[i] += bias[i] * beta


@numba.njit(cache=True)
def learn_first_layer(weights, pixels, values, beta, slopes, column_signs, step, error, faithful):
    """A sample's step in the first layer, its sources read from its compressed row: the bias pair
    (columns 0 and 1, if beta is not 0), then each non-zero pixel p's pair (2 + 2p and 3 + 2p), all
    its pixels in one vector loop (``listed_update``). Faithful: of each pair, the column whose sign
    matches the error's learns, from x s d; every pixel pair's signs are alike (+ then -,
    ``rule.input_source_signs``), so that is one column offset for the whole row. Bidirectional:
    both columns, from x (the slopes carry e). Per pixel, a call, a width check and a sign test
    cost a fifth of the row's update."""
    learning_sign = 1.0 if error > 0.0 else -1.0
    d, one = abs(error), weights.dtype.type(1)
    if beta != 0.0:
        _learn_pair(weights, 0, beta, slopes, column_signs, step, learning_sign, d, faithful)
    for column in (2, 3):
        if faithful and column_signs[column] != learning_sign:
            continue
        factor = column_signs[column] * d if faithful else one
        if not listed_update(weights, column, pixels, values, factor, step, slopes):
            for a in range(len(pixels)):
                _learn_pair(weights, 2 + 2 * pixels[a], values[a], slopes, column_signs, step, learning_sign, d,
                            faithful)
            return


@numba.njit(cache=True)
def _learn_pair(weights, m, x, slopes, column_signs, step, learning_sign, d, faithful):
    """The pair at columns m, m + 1 learns from x: faithful, the column whose sign matches the
    error's, from x s d; bidirectional, both, from x."""
    for column in (m, m + 1):
        if faithful:
            if column_signs[column] != learning_sign:
                continue
            signal = rule_kernel.faithful_signal(x, column_signs[column], d)
        else:
            signal = x
        if not vector_update(weights, column, slopes, signal, step, True):
            for i in range(weights.shape[1]):
                weights[column, i] = rule_kernel.learned(weights[column, i], slopes[i], signal, step)


@numba.njit(cache=True, error_model="numpy")
def batch_sigmoids(batch_sums, size, n, u0, rows, outputs, layer):
    """outputs[b, layer, i] = 1 / (1 + exp(-2 batch_sums[b, i] / u0)) for b < size and i < n, through
    the vectorised exp (``exp_kernel``) over all size x n values at once, ``rows`` its (3, size x n
    or more) scratch. One call a layer and batch: per sample, the exp's set-up cost as much as a
    64-cell layer's values, and a one-cell layer took a scalar exp per sample. Kaneko's sigmoid in
    its own form, equal to ``rule.sigmoid_scalar``'s tanh form to rounding, not bit for bit."""
    real = batch_sums.dtype.type
    scale, one = real(-2.0 / u0), real(1.0)
    count = size * n
    scaled, e, scratch = rows[0, :count], rows[1, :count], rows[2, :count]
    for b in range(size):
        for i in range(n):
            scaled[b * n + i] = batch_sums[b, i] * scale
    exp_into(scaled, e, scratch)
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
