"""Kaneko's online ED step for a whole epoch, compiled with numba.

The layers of all K networks live in one flat buffer, each layer source-major: ``offsets[l]`` is
where layer l starts, and it holds K x columns[l] x cells[l] values, so the weights from one source
to every cell of a layer are contiguous. That is what makes skipping a source cheap: a source
whose value is exactly zero adds nothing to any sum and changes no weight (every change is
proportional to it), so the kernel visits only the non-zero sources of each sample, in forward and
in learning. About 19% of MNIST's pixels are non-zero.

Exactness: for every cell the sum still runs over the (non-zero) columns in increasing order, and
each cell's output and each weight's step are ``rule.sigmoid`` and ``rule.learned``, as in
``ed_neuron``'s Python, with the C library's ``tanh`` in both, so the weights agree with
``ed_neuron`` bit for bit. Skipping a zero source drops a term of +-0.0, which cannot change a sum.
The loop over cells is the innermost, with no dependence between cells, so it runs as SIMD without
reordering any sum: each source's weights are read through a row of a (columns, cells) view, whose
index needs no check for a negative value, and layers 16, 32 or 64 cells wide keep their sums in
vector registers across the sources (LLVM vector code, IEEE multiply then add per lane, no fused
multiply-add), since LLVM cannot keep numba array elements in registers itself.

The K networks of a ten-class run are independent: ``prange`` spreads them over numba's threads,
each network seeing the samples in the same order, so the weights do not depend on the thread
count. The signs of cells and columns come in as tables (``rule.sign_tables``), so the kernel
holds no convention of its own.
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from edbench.methods.ed import rule_kernel


@numba.njit(cache=True)
def nonzero_rows(inputs, order):
    """Compressed rows of ``inputs`` in ``order``: (starts, pixel indices, values) of the non-zeros.
    Both passes run without a branch on the value (MNIST's zeros and non-zeros follow no pattern a
    branch predictor could learn); the second writes every pixel and moves on past the non-zeros."""
    n, width = len(order), inputs.shape[1]
    starts = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        count = 0
        row = inputs[order[r]]
        for p in range(width):
            count += row[p] != 0.0
        starts[r + 1] = starts[r] + count
    pixels = np.empty(starts[n] + 1, dtype=np.int64)
    values = np.empty(starts[n] + 1, dtype=inputs.dtype)
    for r in range(n):
        at = starts[r]
        row = inputs[order[r]]
        for p in range(width):
            value = row[p]
            pixels[at] = p
            values[at] = value
            at += value != 0.0
    return starts, pixels[:starts[n]], values[:starts[n]]


def online_epoch(flat, offsets, cells, columns, cell_signs, column_signs, starts, pixels, values, targets, rows,
                 beta, u0, alpha, u1, faithful):
    """Train every network on every sample (compressed by ``nonzero_rows``, in training order);
    ``rows[r]`` is sample r's column of ``targets``. Returns the summed |error| per network.
    Several networks go to numba's threads; one, or one thread, runs without the parallel region,
    whose start-up costs more than a small epoch."""
    args = (flat, offsets, cells, columns, cell_signs, column_signs, starts, pixels, values, targets, rows,
            beta, u0, alpha, u1, faithful)
    if targets.shape[0] > 1 and numba.get_num_threads() > 1:
        # One network at a time to whichever thread is free: the networks' costs differ (each learns
        # only where its error's sign says), so equal shares of networks are not equal shares of work.
        with numba.parallel_chunksize(1):
            return _epoch_parallel(*args)
    return _epoch_serial(*args)


@numba.njit(cache=True)
def _epoch_serial(flat, offsets, cells, columns, cell_signs, column_signs, starts, pixels, values, targets, rows,
                  beta, u0, alpha, u1, faithful):
    totals = np.zeros(targets.shape[0])
    for k in range(targets.shape[0]):
        totals[k] = _train_network(k, flat, offsets, cells, columns, cell_signs, column_signs, starts, pixels,
                                   values, targets, rows, beta, u0, alpha, u1, faithful)
    return totals


@numba.njit(cache=True, parallel=True)
def _epoch_parallel(flat, offsets, cells, columns, cell_signs, column_signs, starts, pixels, values, targets, rows,
                    beta, u0, alpha, u1, faithful):
    totals = np.zeros(targets.shape[0])
    for k in numba.prange(targets.shape[0]):
        totals[k] = _train_network(k, flat, offsets, cells, columns, cell_signs, column_signs, starts, pixels,
                                   values, targets, rows, beta, u0, alpha, u1, faithful)
    return totals


@numba.njit(cache=True)
def _train_network(k, flat, offsets, cells, columns, cell_signs, column_signs, starts, pixels, values, targets,
                   rows, beta, u0, alpha, u1, faithful):
    """Network k's epoch; returns its summed |error|.

    The first layer's columns come in pairs (a value's excitatory and inhibitory cell, bias
    included) that hold the same value and lie next to each other, so that layer walks pairs: one
    pass over the cells per pair, each cell's sum still adding the pair's two terms in column
    order. Under the faithful rule a column learns from d+ if its sign is positive and from d-
    otherwise, and one of the two is exactly 0, so only the columns whose sign matches the
    error's learn: the others would add (slope * +-0.0) * step to each weight, which leaves it
    as it is. An error of exactly 0 changes nothing under either rule."""
    n_layers = len(cells)
    most_columns = 0
    most_cells = 0
    for layer in range(n_layers):
        most_columns = max(most_columns, columns[layer])
        most_cells = max(most_cells, cells[layer])
    sources = np.empty((n_layers, most_columns), dtype=flat.dtype)  # read only where active
    active = np.empty((n_layers, most_columns), dtype=np.int64)     # layer 0: the pairs' first columns
    n_active = np.empty(n_layers, dtype=np.int64)
    outputs = np.empty((n_layers, most_cells), dtype=flat.dtype)
    u = np.empty(most_cells, dtype=flat.dtype)
    slope = np.empty(most_cells, dtype=flat.dtype)
    total = 0.0
    for r in range(len(rows)):
        count = 0
        if beta != 0.0:
            sources[0, 0] = beta
            active[0, 0] = 0
            count = 1
        for at in range(starts[r], starts[r + 1]):
            column = 2 + 2 * pixels[at]
            sources[0, column] = values[at]
            active[0, count] = column
            count += 1
        n_active[0] = count
        for layer in range(n_layers):
            n_cells = cells[layer]
            weights = _layer(flat, offsets, cells, columns, layer, k)
            if _vector_sums(weights, active[layer], sources[layer], n_active[layer], u, layer == 0):
                pass
            elif layer == 0:
                for i in range(n_cells):
                    u[i] = 0.0
                for a in range(n_active[0]):
                    m = active[0, a]
                    x = sources[0, m]
                    excitatory, inhibitory = weights[m], weights[m + 1]
                    for i in range(n_cells):
                        u[i] = (u[i] + excitatory[i] * x) + inhibitory[i] * x
            else:
                for i in range(n_cells):
                    u[i] = 0.0
                for a in range(n_active[layer]):
                    m = active[layer, a]
                    x = sources[layer, m]
                    row = weights[m]
                    for i in range(n_cells):
                        u[i] += row[i] * x
            for i in range(n_cells):
                outputs[layer, i] = rule_kernel.sigmoid(u[i], u0)
            if layer + 1 < n_layers:
                count = 0
                for column in range(2):
                    sources[layer + 1, column] = beta
                    if beta != 0.0:
                        active[layer + 1, count] = column
                        count += 1
                for i in range(n_cells):
                    sources[layer + 1, 2 + i] = outputs[layer, i]
                    if outputs[layer, i] != 0.0:
                        active[layer + 1, count] = 2 + i
                        count += 1
                n_active[layer + 1] = count
        error = targets[k, rows[r]] - outputs[n_layers - 1, 0]
        total += abs(error)
        if error == 0.0:
            continue
        learning_sign = 1.0 if error > 0.0 else -1.0   # faithful: the sign of the columns that learn
        d = abs(error)                                  # d+ for those columns if error > 0, else d-
        for layer in range(n_layers):
            step = alpha if layer == n_layers - 1 else alpha * u1
            n_cells = cells[layer]
            weights = _layer(flat, offsets, cells, columns, layer, k)
            for i in range(n_cells):
                o = outputs[layer, i]
                slope[i] = rule_kernel.slope(o, cell_signs[layer, i])
                if not faithful:
                    slope[i] = slope[i] * error
            if layer == 0 and not faithful:
                for a in range(n_active[0]):
                    m = active[0, a]
                    x = sources[0, m]
                    if _vector_update(weights, m, slope, x, step):
                        _vector_update(weights, m + 1, slope, x, step)
                        continue
                    excitatory, inhibitory = weights[m], weights[m + 1]
                    for i in range(n_cells):
                        excitatory[i] = rule_kernel.learned(excitatory[i], slope[i], x, step)
                        inhibitory[i] = rule_kernel.learned(inhibitory[i], slope[i], x, step)
                continue
            for a in range(n_active[layer]):
                m = active[layer, a]
                x = sources[layer, m]
                if layer == 0 and column_signs[0, m] != learning_sign:
                    m += 1                                      # the pair's other column
                if faithful:
                    sign = column_signs[layer, m]
                    if sign != learning_sign:
                        continue
                    signal = rule_kernel.faithful_signal(x, sign, d)
                    if _vector_update(weights, m, slope, signal, step):
                        continue
                    row = weights[m]
                    for i in range(n_cells):
                        row[i] = rule_kernel.learned(row[i], slope[i], signal, step)
                elif not _vector_update(weights, m, slope, x, step):
                    row = weights[m]
                    for i in range(n_cells):
                        row[i] = rule_kernel.learned(row[i], slope[i], x, step)
    return total


# --- the cell loops of the common widths, with the cells' sums in vector registers ------------------
# LLVM keeps an array element in a register across a loop only where it can prove no other array
# aliases it, which it cannot for numba's arrays, so these loops are written as LLVM vector code:
# one <width x float> accumulator per layer, an IEEE multiply and add per lane (no fused
# multiply-add: the instructions carry no fast-math flags), in the scalar loop's order.
VECTOR_WIDTHS = (16, 32, 64)


def _splat(builder, vector, value):
    lane = builder.insert_element(ir.Constant(vector, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(lane, ir.Constant(vector, ir.Undefined),
                                  ir.Constant(ir.VectorType(ir.IntType(32), vector.count), [0] * vector.count))


def _vector_at(context, builder, element, pointer, index, width):
    """(pointer to the ``width`` values at ``pointer[index]`` as one vector, its alignment)."""
    address = builder.gep(pointer, [index]) if index is not None else pointer
    return builder.bitcast(address, ir.VectorType(element, width).as_pointer()), context.get_abi_sizeof(element)


def _make_sums(width: int, paired: bool):
    """sums[:width] = the sum over a < count, in order, of weights[m] * x (paired: weights[m] * x, then
    weights[m + 1] * x), m = active[a], x = sources[m], starting from +0.0."""
    @intrinsic
    def sums_of(typingctx, weights, active, sources, count, sums):
        def codegen(context, builder, signature, args):
            w, act, src, _, out = (context.make_array(t)(context, builder, a) if isinstance(t, types.Array) else a
                                   for t, a in zip(signature.args, args))
            element = context.get_data_type(signature.args[0].dtype)
            vector = ir.VectorType(element, width)
            total = cgutils.alloca_once_value(builder, ir.Constant(vector, None))
            with cgutils.for_range(builder, args[3]) as loop:
                m = builder.load(builder.gep(act.data, [loop.index]))
                x = _splat(builder, vector, builder.load(builder.gep(src.data, [m])))
                start = builder.mul(m, ir.Constant(m.type, width))
                row, align = _vector_at(context, builder, element, w.data, start, width)
                value = builder.fadd(builder.load(total), builder.fmul(builder.load(row, align=align), x))
                if paired:
                    row, align = _vector_at(context, builder, element, w.data,
                                            builder.add(start, ir.Constant(m.type, width)), width)
                    value = builder.fadd(value, builder.fmul(builder.load(row, align=align), x))
                builder.store(value, total)
            target, align = _vector_at(context, builder, element, out.data, None, width)
            builder.store(builder.load(total), target, align=align)
            return context.get_dummy_value()
        return types.void(weights, active, sources, count, sums), codegen
    return sums_of


def _make_update(width: int):
    """With row = weights[m]: row[i] = rule.learned(row[i], slope[i], signal, step) for i < width,
    that is row[i] + (slope[i] * signal) * step where row[i] != 0, each value converted as the
    scalar loop converts it (to signal's type for the arithmetic, back to row's to store). Takes
    the layer and m, not a view of the row, which would cost a reference count per source."""
    @intrinsic
    def update(typingctx, layer, m, slope, signal, step):
        def codegen(context, builder, signature, args):
            row_t, _, slope_t, signal_t, step_t = signature.args
            w = context.make_array(row_t)(context, builder, args[0])
            g = context.make_array(slope_t)(context, builder, args[2])
            compute = context.get_data_type(signal_t)
            vector = ir.VectorType(compute, width)
            start = builder.mul(args[1], ir.Constant(args[1].type, width))

            def load(array, array_t, index):
                element = context.get_data_type(array_t.dtype)
                pointer, align = _vector_at(context, builder, element, array.data, index, width)
                value = builder.load(pointer, align=align)
                return value if element == compute else builder.fpext(value, vector)

            weights = load(w, row_t, start)
            step_value = context.cast(builder, args[4], step_t, signal_t)
            change = builder.fmul(builder.fmul(load(g, slope_t, None), _splat(builder, vector, args[3])),
                                  _splat(builder, vector, step_value))
            changed = builder.select(builder.fcmp_unordered("!=", weights, ir.Constant(vector, None)),
                                     builder.fadd(weights, change), weights)
            element = context.get_data_type(row_t.dtype)
            if element != compute:
                changed = builder.fptrunc(changed, ir.VectorType(element, width))
            pointer, align = _vector_at(context, builder, element, w.data, start, width)
            builder.store(changed, pointer, align=align)
            return context.get_dummy_value()
        return types.void(layer, m, slope, signal, step), codegen
    return update


_sums_16, _sums_32, _sums_64 = (_make_sums(width, False) for width in VECTOR_WIDTHS)
_paired_sums_16, _paired_sums_32, _paired_sums_64 = (_make_sums(width, True) for width in VECTOR_WIDTHS)
_update_16, _update_32, _update_64 = (_make_update(width) for width in VECTOR_WIDTHS)


@numba.njit(cache=True)
def _vector_sums(weights, active, sources, count, sums, paired):
    """The layer's sums into ``sums`` if its width has a vector loop (returns True), else False.
    Unchecked: ``sums`` holds at least the width's values and every active source is a row."""
    width = weights.shape[1]
    if width == 16:
        if paired:
            _paired_sums_16(weights, active, sources, count, sums)
        else:
            _sums_16(weights, active, sources, count, sums)
    elif width == 32:
        if paired:
            _paired_sums_32(weights, active, sources, count, sums)
        else:
            _sums_32(weights, active, sources, count, sums)
    elif width == 64:
        if paired:
            _paired_sums_64(weights, active, sources, count, sums)
        else:
            _sums_64(weights, active, sources, count, sums)
    else:
        return False
    return True


@numba.njit(cache=True)
def _vector_update(weights, m, slope, signal, step):
    """Source m's learning step into ``weights[m]`` if the layer's width has a vector loop (returns
    True), else False. Unchecked: m is a row and ``slope`` holds at least the width's values."""
    width = weights.shape[1]
    if width == 16:
        _update_16(weights, m, slope, signal, step)
    elif width == 32:
        _update_32(weights, m, slope, signal, step)
    elif width == 64:
        _update_64(weights, m, slope, signal, step)
    else:
        return False
    return True


@numba.njit(cache=True)
def _layer(flat, offsets, cells, columns, layer, k):
    """Network k's weights of ``layer`` as a (columns, cells) view of ``flat``: a row is one source's
    weights to every cell. Indexing a row by the cell needs no check for negative indices (which
    ``flat[start + i]`` does), so the loops over cells compile to SIMD."""
    size = columns[layer] * cells[layer]
    start = offsets[layer] + k * size
    return flat[start:start + size].reshape((columns[layer], cells[layer]))


def flatten(weights: list[np.ndarray], dtype=np.float64):
    """One flat buffer holding ``weights`` source-major, the (K, cells, columns) views of it that
    the rest of the package reads and writes, the source-major views, and the offsets and sizes."""
    sizes = [w.size for w in weights]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    flat = np.concatenate([np.ascontiguousarray(w.transpose(0, 2, 1)).ravel() for w in weights]).astype(dtype)
    source_major = [flat[o:o + s].reshape(w.shape[0], w.shape[2], w.shape[1])
                    for o, s, w in zip(offsets, sizes, weights)]
    views = [v.transpose(0, 2, 1) for v in source_major]
    cells = np.array([w.shape[1] for w in weights], dtype=np.int64)
    columns = np.array([w.shape[2] for w in weights], dtype=np.int64)
    return flat, views, source_major, offsets, cells, columns
