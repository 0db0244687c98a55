"""``ed_deep``'s first layer over a sample's non-zero pixels, a pixel's cells as one vector.

``deep_kernel``'s epoch calls ``fold`` once per batch (each pixel's + and - weights summed into one
row of ``width`` cells), then ``first_forward`` and, once the error is known, ``first_learn``. For a
width of 4, 8 or 16 a pixel's row is one vector: its sums take the row times the pixel's value into
a vector of sums, and its change adds the cells' gains times the value into the row of changes. Each
cell still multiplies and then adds, in pixel order, as the scalar loops do (no fused multiply-add:
the instructions carry no fast-math flags), so the weights are the same to the bit. The scalar loops
took four cells a pass as four separate sums; as one vector a width-4 network ran 7-12% faster in
float64 and 12-15% in float32, width 8 2-7% (interleaved rounds, 1,024 images of 0 vs 1).
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from edbench.methods.ed import rule_kernel
from edbench.methods.ed.vector_kernel import _splat, _unpacked, _vector_at

PIXEL_WIDTHS = (4, 8, 16)


def _row(context, builder, element, data, row, width):
    """(pointer to row ``row`` of a C-ordered array ``width`` values wide, as one vector, its alignment)."""
    return _vector_at(context, builder, element, data, builder.mul(row, ir.Constant(row.type, width)), width)


def _make_pixel_sums(width: int):
    """sums[:width] += the sum over at in [start, end), in order, of folded[pixels[at] + 1] * values[at]."""
    @intrinsic
    def pixel_sums(typingctx, folded, pixels, values, start, end, sums):
        def codegen(context, builder, signature, args):
            f, px, val, _, _, out = _unpacked(context, builder, signature, args)
            element = context.get_data_type(signature.args[0].dtype)
            vector = ir.VectorType(element, width)
            target, align = _vector_at(context, builder, element, out.data, None, width)
            total = cgutils.alloca_once_value(builder, builder.load(target, align=align))
            one = ir.Constant(args[3].type, 1)
            with cgutils.for_range_slice(builder, args[3], args[4], one, inc=True) as (at, _):
                row = builder.add(builder.load(builder.gep(px.data, [at])), one)
                x = _splat(builder, vector, builder.load(builder.gep(val.data, [at])))
                weights = builder.load(_row(context, builder, element, f.data, row, width)[0], align=align)
                builder.store(builder.fadd(builder.load(total), builder.fmul(weights, x)), total)
            builder.store(builder.load(total), target, align=align)
            return context.get_dummy_value()
        return types.void(folded, pixels, values, start, end, sums), codegen
    return pixel_sums


def _make_pixel_changes(width: int):
    """change[pixels[at] + 1, column, :width] += gain[:width] * values[at] for at in [start, end)."""
    @intrinsic
    def pixel_changes(typingctx, change, column, pixels, values, start, end, gain):
        def codegen(context, builder, signature, args):
            c, _, px, val, _, _, g = _unpacked(context, builder, signature, args)
            element = context.get_data_type(signature.args[0].dtype)
            vector = ir.VectorType(element, width)
            gain_row, align = _vector_at(context, builder, element, g.data, None, width)
            gains = builder.load(gain_row, align=align)
            one, two = ir.Constant(args[4].type, 1), ir.Constant(args[4].type, 2)
            with cgutils.for_range_slice(builder, args[4], args[5], one, inc=True) as (at, _):
                pixel = builder.add(builder.load(builder.gep(px.data, [at])), one)
                x = _splat(builder, vector, builder.load(builder.gep(val.data, [at])))
                row = _row(context, builder, element, c.data, builder.add(builder.mul(pixel, two), args[1]), width)[0]
                builder.store(builder.fadd(builder.load(row, align=align), builder.fmul(gains, x)), row, align=align)
            return context.get_dummy_value()
        return types.void(change, column, pixels, values, start, end, gain), codegen
    return pixel_changes


_sums_4, _sums_8, _sums_16 = (_make_pixel_sums(width) for width in PIXEL_WIDTHS)
_changes_4, _changes_8, _changes_16 = (_make_pixel_changes(width) for width in PIXEL_WIDTHS)


@numba.njit(cache=True)
def pixel_sums(folded, pixels, values, start, end, sums):
    """The pixels' sums into ``sums`` if the width has a vector loop (returns True), else False.
    Unchecked: ``folded`` is (pairs, width) and C-ordered, ``sums`` holds the width's values."""
    width = folded.shape[1]
    if width == 4:
        _sums_4(folded, pixels, values, start, end, sums)
    elif width == 8:
        _sums_8(folded, pixels, values, start, end, sums)
    elif width == 16:
        _sums_16(folded, pixels, values, start, end, sums)
    else:
        return False
    return True


@numba.njit(cache=True)
def pixel_changes(change, column, pixels, values, start, end, gain):
    """The pixels' changes into ``change[:, column]`` if the width has a vector loop (returns True),
    else False. Unchecked: ``change`` is (pairs, 2, width) and C-ordered, ``gain`` holds the width's
    values."""
    width = change.shape[2]
    if width == 4:
        _changes_4(change, column, pixels, values, start, end, gain)
    elif width == 8:
        _changes_8(change, column, pixels, values, start, end, gain)
    elif width == 16:
        _changes_16(change, column, pixels, values, start, end, gain)
    else:
        return False
    return True


@numba.njit(cache=True)
def fold(k, first_t, folded):
    for m in range(folded.shape[0]):
        for i in range(folded.shape[1]):
            folded[m, i] = first_t[k, 2 * m, i] + first_t[k, 2 * m + 1, i]


@numba.njit(cache=True)
def first_forward(folded, samples, order, begin, beta, u0, first):
    """first[i, b] = f(folded[0, i] * beta + the sum over sample b's non-zero pixels): a zero
    source adds nothing, so only the non-zeros are visited."""
    starts, pixels, values, _ = samples
    width, batch = first.shape
    sums = np.empty(width, dtype=first.dtype)
    for b in range(batch):
        for i in range(width):
            sums[i] = folded[0, i] * beta
        start, end = starts[order[begin + b]], starts[order[begin + b] + 1]
        vector = pixel_sums(folded, pixels, values, start, end, sums)   # a pixel's cells as one vector
        # Else four cells a pass, sums in registers; past the last cell a pass repeats it, its copies equal.
        for i in range(0, 0 if vector else width, 4):
            i1, i2, i3 = min(i + 1, width - 1), min(i + 2, width - 1), min(i + 3, width - 1)
            s0, s1, s2, s3 = sums[i], sums[i1], sums[i2], sums[i3]
            for at in range(start, end):
                m, v = pixels[at] + 1, values[at]
                s0 += folded[m, i] * v
                s1 += folded[m, i1] * v
                s2 += folded[m, i2] * v
                s3 += folded[m, i3] * v
            sums[i], sums[i1], sums[i2], sums[i3] = s0, s1, s2, s3
        for i in range(width):
            first[i, b] = rule_kernel.sigmoid_scalar(sums[i], u0)


@numba.njit(cache=True)
def first_learn(k, layers, change, samples, order, begin, first, error, beta, step, faithful):
    """The folded first-layer update (``EDMatrix.learn_first_layer``): each sample's gain times its
    source values; faithful, into the + column of each pair where e > 0 and the - column where
    e < 0. Summed over the batch in ``change`` (only the rows a sample reaches), then added."""
    first_t, cell_signs = layers.first_t, layers.cell_signs
    starts, pixels, values, _ = samples
    width, batch = first.shape
    real = first.dtype.type
    one = real(1.0)
    gain = np.empty(width, dtype=first.dtype)
    touched = np.zeros(change.shape[0], dtype=np.bool_)
    touched[0] = True
    for i in range(width):
        change[0, 0, i] = real(0.0)
        change[0, 1, i] = real(0.0)
    for b in range(batch):
        if faithful and not (error[b] > 0 or error[b] < 0):
            continue
        column = 1 if faithful and error[b] < 0 else 0
        for i in range(width):
            o = first[i, b]
            gain[i] = o * (one - o) * cell_signs[i] * (error[b] * step)
        for i in range(width):
            change[0, column, i] += gain[i] * beta
        start, end = starts[order[begin + b]], starts[order[begin + b] + 1]
        for at in range(start, end):
            m = pixels[at] + 1
            if not touched[m]:
                touched[m] = True
                for i in range(width):
                    change[m, 0, i] = real(0.0)
                    change[m, 1, i] = real(0.0)
        vector = pixel_changes(change, column, pixels, values, start, end, gain)   # as in ``first_forward``
        for i in range(0, 0 if vector else width, 4):   # else four cells a pass; a repeat adds 0
            i1, i2, i3 = min(i + 1, width - 1), min(i + 2, width - 1), min(i + 3, width - 1)
            g0, g1 = gain[i], gain[i1] if i + 1 < width else real(0.0)
            g2, g3 = gain[i2] if i + 2 < width else real(0.0), gain[i3] if i + 3 < width else real(0.0)
            for at in range(start, end):
                m, v = pixels[at] + 1, values[at]
                change[m, column, i] += g0 * v
                change[m, column, i1] += g1 * v
                change[m, column, i2] += g2 * v
                change[m, column, i3] += g3 * v
    for m in range(change.shape[0]):
        if touched[m]:
            for i in range(width):
                if faithful:
                    first_t[k, 2 * m, i] += change[m, 0, i]
                    first_t[k, 2 * m + 1, i] += change[m, 1, i]
                else:
                    first_t[k, 2 * m, i] += change[m, 0, i]
                    first_t[k, 2 * m + 1, i] += change[m, 0, i]
