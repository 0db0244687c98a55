"""ED's epoch over each sample's non-zero sources, online (Kaneko's rule) or in minibatches,
compiled with numba.

The layers of all K networks live in one flat buffer, each layer source-major: ``offsets[l]`` is
where layer l starts (on a cache line), and it holds K x columns[l] x cells[l] values, so the weights
from one source to every cell of a layer are contiguous. That is what makes skipping a source cheap: a source
whose value is exactly zero adds nothing to any sum and changes no weight (every change is
proportional to it), so the kernel visits only the non-zero sources of each sample, in forward and
in learning. About 19% of MNIST's pixels are non-zero.

Exactness (online): for every cell the sum still runs over the (non-zero) columns in increasing order, and
each cell's output and each weight's step are ``rule.sigmoid_scalar`` and ``rule.learned``, as in
``ed_neuron``'s Python, with the C library's ``tanh`` in both, so the weights agree with
``ed_neuron`` bit for bit. Skipping a zero source drops a term of +-0.0, which cannot change a sum.
The loop over cells is the innermost, with no dependence between cells, so it runs as SIMD without
reordering any sum: a layer is a (columns, cells) view, indexed ``weights[m, i]`` rather than through
a view of row m (a view per source costs a reference count, an atomic add, and made a 784-64-1 epoch
about 5% slower, seed 000's 784-(16x10)-1 about 12%), and layers 16, 32 or 64 cells wide keep their sums in
vector registers across the sources (``vector_kernel``), since LLVM cannot keep numba array elements
in registers itself.

The K networks of a ten-class run are independent: ``prange`` spreads them over numba's threads,
each network seeing the samples in the same order, so the weights do not depend on the thread
count. The signs of cells and columns come in as tables (``rule.sign_tables``), so the kernel
holds no convention of its own.
"""
from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from edbench.maths import aligned, aligned_kernel
from edbench.methods.ed import first_layer_kernel as first_layer
from edbench.methods.ed import minibatch_kernel as minibatch
from edbench.methods.ed import rule, rule_kernel
from edbench.methods.ed.vector_kernel import vector_sums, vector_update


class FlatLayers(NamedTuple):
    """Every network's weights in one flat buffer (``flatten``), where each layer starts, its cells and
    columns, and the (layers, most cells) and (layers, most columns) sign tables."""
    flat: np.ndarray
    offsets: np.ndarray
    cells: np.ndarray
    columns: np.ndarray
    cell_signs: np.ndarray
    column_signs: np.ndarray


class Samples(NamedTuple):
    """The samples as compressed rows (``nonzero_rows``: where each row starts, its non-zero pixels
    and their values), and the targets (K, samples) in the rows' order."""
    starts: np.ndarray
    pixels: np.ndarray
    values: np.ndarray
    targets: np.ndarray


@numba.njit(cache=True)
def nonzero_rows(inputs):
    """Compressed rows of ``inputs``, in their order: (starts, pixel indices, values) of the non-zeros.
    Both passes run without a branch on the value (MNIST's zeros and non-zeros follow no pattern a
    branch predictor could learn); the second writes every pixel and moves on past the non-zeros."""
    n, width = inputs.shape
    starts = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        count = 0
        row = inputs[r]
        for p in range(width):
            count += row[p] != 0.0
        starts[r + 1] = starts[r] + count
    pixels = np.empty(starts[n] + 1, dtype=np.int64)
    values = np.empty(starts[n] + 1, dtype=inputs.dtype)
    for r in range(n):
        at = starts[r]
        row = inputs[r]
        for p in range(width):
            value = row[p]
            pixels[at] = p
            values[at] = value
            at += value != 0.0
    return starts, pixels[:starts[n]], values[:starts[n]]


def sparse_epoch(layers: FlatLayers, samples: Samples, order: np.ndarray, settings: rule.Settings,
                 batch: int = 1) -> np.ndarray:
    """Train every network on the samples ``order`` names (row indices of ``samples``), in that order,
    in minibatches of ``batch`` (1: online, the last batch may be smaller); returns the summed
    |error| per network. The rows are read in place, so one compression serves every epoch's order.
    Several networks go to numba's threads; one, or one thread, runs without the parallel region,
    whose start-up costs more than a small epoch."""
    order = np.ascontiguousarray(order, dtype=np.int64)
    if samples.targets.shape[0] > 1 and numba.get_num_threads() > 1:
        # One network at a time to whichever thread is free: the networks' costs differ (each learns
        # only where its error's sign says), so equal shares of networks are not equal shares of work.
        with numba.parallel_chunksize(1):
            return _epoch_parallel(layers, samples, order, settings, batch)
    return _epoch_serial(layers, samples, order, settings, batch)


@numba.njit(cache=True)
def _epoch_serial(layers, samples, order, settings, batch):
    totals = np.zeros(samples.targets.shape[0])
    for k in range(samples.targets.shape[0]):
        totals[k] = _train_network(np.int64(k), layers, samples, order, settings, batch)
    return totals


@numba.njit(cache=True, parallel=True)
def _epoch_parallel(layers, samples, order, settings, batch):
    totals = np.zeros(samples.targets.shape[0])
    for k in numba.prange(samples.targets.shape[0]):   # uint64 here: as int64, one compile with the serial loop
        totals[k] = _train_network(np.int64(k), layers, samples, order, settings, batch)
    return totals


@numba.njit(cache=True)
def _train_network(k, layers, samples, order, settings, batch):
    """Network k's epoch; returns its summed |error|.

    A minibatch runs every sample forward on the weights as they were before it, then applies each
    sample's change, scaled by 1/(samples in the batch), straight into the weights: a change needs
    only its sample's sources and outputs, so no change is held apart. With ``batch`` 1 that is the
    online rule, and the step, divided by 1, is unchanged to the bit. Minibatches, which match the
    NumPy path only to rounding anyway, run forward layer by layer over the whole batch. Both
    learn the first layer, and minibatches also sum it, from the compressed rows as they lie
    (``first_layer_kernel``: copying them into a list per network cost a tenth of a batch-128 epoch
    in float32).

    The records are taken apart here, once (per layer and sample, the epoch ran about a tenth
    slower: each array taken out costs a reference count, an atomic add), each layer's view once
    per network and each sample's scratch rows once per sample (seed 000's 784-(16x10)-1 epoch
    about 15% faster than per layer). An error of exactly 0 changes nothing under either rule, so
    such a sample is not learned."""
    flat, offsets, cells, columns, cell_signs, column_signs = layers
    starts, pixels, values, targets = samples
    alpha, beta, u0, u1, faithful = settings
    n_layers = len(cells)
    # Per sample of the batch, the layers after the first (which reads the compressed rows); read
    # only where active.
    sources = np.empty((batch, n_layers, columns.max()), dtype=flat.dtype)
    active = np.empty((batch, n_layers, columns.max()), dtype=np.int64)
    n_active = np.empty((batch, n_layers), dtype=np.int64)
    outputs = np.empty((batch, n_layers, cells.max()), dtype=flat.dtype)
    errors = np.empty(batch, dtype=flat.dtype)
    steps = np.empty(n_layers, dtype=flat.dtype)   # in the weights' type: float32 stays float32
    fold = batch > 1
    # Read as whole vectors: on cache lines of their own (``aligned``).
    fold_rows, batch_rows = (columns[0] // 2, batch) if fold else (0, 0)
    folded = aligned_kernel.empty_like_line(fold_rows * cells[0], flat).reshape((fold_rows, cells[0]))
    sums, slopes = aligned_kernel.empty_like_line(cells.max(), flat), aligned_kernel.empty_like_line(cells.max(), flat)
    batch_sums = aligned_kernel.empty_like_line(batch_rows * cells.max(), flat).reshape((batch_rows, cells.max()))
    exp_rows = aligned_kernel.empty_like_line(2 * batch_rows * cells.max(), flat).reshape((2, batch_rows * cells.max()))
    total, n = 0.0, len(order)
    views = [_layer(flat, offsets, cells, columns, layer, k) for layer in range(n_layers)]
    for first in range(0, n, batch):
        size = min(batch, n - first)
        for layer in range(n_layers):
            steps[layer] = (alpha if layer == n_layers - 1 else alpha * u1) / size
        if fold:
            first_layer.fold_pairs(views[0], folded)
            total += _batch_forward(k, order[first:first + size], samples, beta, u0, views, folded, cells, columns,
                                    sources, active, n_active, outputs, batch_sums, exp_rows, errors)
        else:   # online: one sample, bit for bit ed_neuron
            r, src_b, act_b, nact_b, out_b = order[first], sources[0], active[0], n_active[0], outputs[0]
            row = slice(starts[r], starts[r + 1])
            first_layer.exact_sums(views[0], pixels[row], values[row], beta, sums)
            for layer in range(n_layers):
                if layer > 0:
                    _sums(views[layer], act_b[layer], src_b[layer], nact_b[layer], sums)
                for i in range(cells[layer]):
                    out_b[layer, i] = rule_kernel.sigmoid_scalar(sums[i], u0)
                if layer + 1 < n_layers:
                    _list_sources(out_b, layer, cells[layer], beta, src_b, act_b, nact_b)
            errors[0] = targets[k, r] - out_b[n_layers - 1, 0]
            total += abs(errors[0])
        for b in range(size):
            error = errors[b]
            if error == 0.0:
                continue
            src_b, act_b, nact_b, out_b = sources[b], active[b], n_active[b], outputs[b]
            for layer in range(n_layers):
                for i in range(cells[layer]):
                    slopes[i] = rule_kernel.slope(out_b[layer, i], cell_signs[layer, i])
                    if not faithful:
                        slopes[i] = slopes[i] * error
                if layer == 0:
                    start, end = starts[order[first + b]], starts[order[first + b] + 1]
                    first_layer.learn_first_layer(views[0], pixels[start:end], values[start:end], beta, slopes,
                                                column_signs[0], steps[0], error, faithful, fold)
                elif fold and cells[layer] == 1:
                    minibatch.one_cell_learn(views[layer], src_b[layer], column_signs[layer], slopes[0], steps[layer],
                                             error, faithful, columns[layer])
                else:
                    _learn_columns(views[layer], layer, act_b, src_b, nact_b, slopes, column_signs,
                                   steps[layer], error, faithful, fold)
    return total


@numba.njit(cache=True)
def _batch_forward(k, rows, samples, beta, u0, views, folded, cells, columns, sources, active, n_active, outputs,
                   batch_sums, exp_rows, errors):
    """The minibatch of samples ``rows`` forward, layer by layer over the whole batch (each layer's
    sigmoids in one call, ``batch_sigmoids``), the first layer over its folded pairs; fills each
    sample's sources, outputs and error, and returns the summed |error|."""
    starts, pixels, values, targets = samples
    n_layers = len(cells)
    for layer in range(n_layers):
        for b in range(len(rows)):
            if layer == 0:
                start, end = starts[rows[b]], starts[rows[b] + 1]
                first_layer.first_layer_sums(folded, pixels[start:end], values[start:end], beta, batch_sums[b])
            elif cells[layer] == 1:
                batch_sums[b, 0] = minibatch.one_cell_sum(views[layer], sources[b, layer], columns[layer])
            else:
                _sums(views[layer], active[b, layer], sources[b, layer], n_active[b, layer], batch_sums[b])
        minibatch.batch_sigmoids(batch_sums, len(rows), cells[layer], u0, exp_rows, outputs, layer)
        if layer + 1 < n_layers:
            for b in range(len(rows)):
                _list_sources(outputs[b], layer, cells[layer], beta, sources[b], active[b], n_active[b])
    total = 0.0
    for b in range(len(rows)):
        errors[b] = targets[k, rows[b]] - outputs[b, n_layers - 1, 0]
        total += abs(errors[b])
    return total


@numba.njit(cache=True)
def _sums(weights, active, sources, count, sums):
    """sums[i] = the sum over the active sources, in column order, of weights[m, i] * sources[m]: a
    layer after the first (the first is ``first_layer_kernel``'s)."""
    if vector_sums(weights, active, sources, count, sums):
        return
    n_cells = weights.shape[1]
    if n_cells == 1:   # one sum, kept in a register: through sums[0] each add waited on a store
        total = sums.dtype.type(0)
        for a in range(count):
            m = active[a]
            total += weights[m, 0] * sources[m]
        sums[0] = total
        return
    for i in range(n_cells):
        sums[i] = 0.0
    for a in range(count):
        m = active[a]
        x = sources[m]
        for i in range(n_cells):
            sums[i] += weights[m, i] * x


@numba.njit(cache=True)
def _list_sources(outputs, layer, n_cells, beta, sources, active, n_active):
    """The outputs of ``layer`` as the next layer's sources, after the bias pair, listing the
    non-zero ones (each cell is written to the list, and the count moves past the non-zeros)."""
    following = layer + 1
    count = 0
    for column in range(2):
        sources[following, column] = beta
        if beta != 0.0:
            active[following, count] = column
            count += 1
    for i in range(n_cells):   # without a branch: whether an output is exactly 0 follows no pattern
        value = outputs[layer, i]
        sources[following, 2 + i] = value
        active[following, count] = 2 + i
        count += value != 0.0
    n_active[following] = count


@numba.njit(cache=True)
def _learn_columns(weights, layer, active, sources, n_active, slopes, column_signs, step, error, faithful, fused):
    """The step of every active column that learns, in a layer after the first (the first is
    ``first_layer_kernel.learn_first_layer``). Under the faithful rule a column learns from d+ if its
    sign is positive and from d- otherwise, and one of the two is exactly 0, so only the columns
    whose sign matches the error's learn: the others would add (slope * +-0.0) * step to each
    weight, which leaves it as it is. A column's step is written out
    here rather than in a function of its own: a call per column, compiled apart or inlined by
    numba, made the epoch a quarter slower."""
    learning_sign = 1.0 if error > 0.0 else -1.0   # faithful: the sign of the columns that learn
    d = abs(error)                                  # d+ for those columns if error > 0, else d-
    for a in range(n_active[layer]):
        m = active[layer, a]
        signal = sources[layer, m]
        if faithful:
            sign = column_signs[layer, m]
            if sign != learning_sign:
                continue
            signal = rule_kernel.faithful_signal(signal, sign, d)
        if vector_update(weights, m, slopes, signal, step, fused):
            continue
        for i in range(weights.shape[1]):
            weights[m, i] = rule_kernel.learned(weights[m, i], slopes[i], signal, step)


@numba.njit(cache=True)
def _layer(flat, offsets, cells, columns, layer, k):
    """Network k's weights of ``layer`` as a (columns, cells) view of ``flat``: a row is one source's
    weights to every cell. Indexing it by (source, cell) needs no check for negative indices (which
    ``flat[start + i]`` does), so the loops over cells compile to SIMD."""
    size = columns[layer] * cells[layer]
    start = offsets[layer] + k * size
    return flat[start:start + size].reshape((columns[layer], cells[layer]))


def flatten(weights: list[np.ndarray], dtype=np.float64) -> tuple[FlatLayers, list[np.ndarray], list[np.ndarray]]:
    """``weights`` in one flat buffer, source-major, as ``FlatLayers``, each layer starting on a cache
    line (``aligned``); the (K, cells, columns) views of it that the rest of the package reads and
    writes; and the source-major (K, columns, cells) views."""
    sizes = [w.size for w in weights]
    per_line = aligned.CACHE_LINE // np.dtype(dtype).itemsize
    padded = [-(-size // per_line) * per_line for size in sizes]
    offsets = np.concatenate([[0], np.cumsum(padded)[:-1]]).astype(np.int64)
    flat = aligned.empty(sum(padded), dtype)
    flat[:] = 0.0
    for offset, size, w in zip(offsets, sizes, weights):
        flat[offset:offset + size] = w.transpose(0, 2, 1).ravel()
    source_major = [flat[o:o + s].reshape(w.shape[0], w.shape[2], w.shape[1])
                    for o, s, w in zip(offsets, sizes, weights)]
    views = [v.transpose(0, 2, 1) for v in source_major]
    shapes = [w.shape[1:] for w in weights]
    cells = np.array([c for c, _ in shapes], dtype=np.int64)
    columns = np.array([m for _, m in shapes], dtype=np.int64)
    signs = [table.astype(dtype) for table in rule.sign_tables(shapes)]
    return FlatLayers(flat, offsets, cells, columns, *signs), views, source_major
