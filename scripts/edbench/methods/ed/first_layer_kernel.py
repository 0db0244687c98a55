"""``ed_matrix``'s first layer read straight from the samples' compressed rows (``online_kernel``'s
``Samples``): a sample's non-zero pixels and their values, as they lie, with no list to copy per
network. Online, a sample's sums run in ``ed_neuron``'s order and rounding (``exact_sums``); a
minibatch folds each column pair once per batch and sums a sample's pixels' folded rows
(``first_layer_sums``). Online and minibatch alike, a sample's step takes all its pixels in one
vector loop (``learn_first_layer``), online in ``rule.learned``'s rounding, bit for bit
``ed_neuron``, minibatches fused.
"""
from __future__ import annotations

import numba

from edbench.methods.ed import rule_kernel
from edbench.methods.ed.vector_kernel import listed_sums, listed_update, pixel_pair_sums, vector_update


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
def exact_sums(weights, pixels, values, beta, sums):
    """A sample's first-layer sums online, bit for bit ``ed_neuron``: each cell's sum over the bias
    pair (if beta is not 0) and then each non-zero pixel's pair, column by column in order, a
    multiply and an add per column from +0.0. A zero pixel's terms are +-0.0, which change no sum."""
    zero = sums.dtype.type(0)
    for i in range(weights.shape[1]):
        sums[i] = zero
        if beta != 0.0:
            sums[i] = (sums[i] + weights[0, i] * beta) + weights[1, i] * beta
    if pixel_pair_sums(weights, pixels, values, sums):
        return
    for a in range(len(pixels)):
        excitatory, inhibitory, x = weights[2 + 2 * pixels[a]], weights[3 + 2 * pixels[a]], values[a]
        for i in range(weights.shape[1]):
            sums[i] = (sums[i] + excitatory[i] * x) + inhibitory[i] * x


@numba.njit(cache=True)
def learn_first_layer(weights, pixels, values, beta, slopes, column_signs, step, error, faithful, fused):
    """A sample's step in the first layer, its sources read from its compressed row: the bias pair
    (columns 0 and 1, if beta is not 0), then each non-zero pixel p's pair (2 + 2p and 3 + 2p), all
    its pixels in one vector loop (``listed_update``). Faithful: of each pair, the column whose sign
    matches the error's learns, from x s d; every pixel pair's signs are alike (+ then -,
    ``rule.input_source_signs``), so that is one column offset for the whole row. Bidirectional:
    both columns, from x (the slopes carry e). A call, a width check and a sign test per pixel made
    batch-128 float32 epochs 20-35% slower. ``fused``: slope * (signal * step) in one fused multiply-add
    (minibatches); else ``rule.learned``'s rounding, bit for bit ``ed_neuron`` (online): the rows
    are independent, so the order they learn in changes nothing."""
    learning_sign = 1.0 if error > 0.0 else -1.0
    d, one = abs(error), weights.dtype.type(1)
    if beta != 0.0:
        _learn_pair(weights, 0, beta, slopes, column_signs, step, learning_sign, d, faithful, fused)
    for column in (2, 3):
        if faithful and column_signs[column] != learning_sign:
            continue
        factor = column_signs[column] * d if faithful else one
        if not listed_update(weights, column, pixels, values, factor, step, slopes, fused):
            for a in range(len(pixels)):
                _learn_pair(weights, 2 + 2 * pixels[a], values[a], slopes, column_signs, step, learning_sign, d,
                            faithful, fused)
            return


@numba.njit(cache=True)
def _learn_pair(weights, m, x, slopes, column_signs, step, learning_sign, d, faithful, fused):
    """The pair at columns m, m + 1 learns from x: faithful, the column whose sign matches the
    error's, from x s d; bidirectional, both, from x."""
    for column in (m, m + 1):
        if faithful:
            if column_signs[column] != learning_sign:
                continue
            signal = rule_kernel.faithful_signal(x, column_signs[column], d)
        else:
            signal = x
        if not vector_update(weights, column, slopes, signal, step, fused):
            for i in range(weights.shape[1]):
                weights[column, i] = rule_kernel.learned(weights[column, i], slopes[i], signal, step)
