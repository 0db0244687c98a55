"""The online kernel's cell loops for layers 16, 32 or 64 cells wide, written as LLVM vector code.

LLVM keeps an array element in a register across a loop only where it can prove no other array
aliases it, which it cannot for numba's arrays, so these loops keep the cells' sums in vector
registers themselves: one <width x float> accumulator per layer, an IEEE multiply and add per lane
(no fused multiply-add: the instructions carry no fast-math flags), in the scalar loop's order. The
update is ``rule.learned`` lane by lane, for the same reason and with the same rounding.

Minibatches match no other code to the bit, so their first layer's sums (``listed_sums``) and every
vector update (``fused`` in ``vector_update``) take the fused forms: one multiply-add per weight and
one rounding where the exact forms spend a multiply and an add, or two multiplies and an add.
"""
from __future__ import annotations

import numba
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from edbench.maths.exp_kernel import vector_intrinsic

VECTOR_WIDTHS = (16, 32, 64)


def _splat(builder, vector, value):
    lane = builder.insert_element(ir.Constant(vector, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(lane, ir.Constant(vector, ir.Undefined),
                                  ir.Constant(ir.VectorType(ir.IntType(32), vector.count), [0] * vector.count))


def _fma(builder, a, b, c):
    """a * b + c, lane by lane, rounded once (LLVM's fma; IRBuilder's own takes scalars only)."""
    return vector_intrinsic(builder, "fma", a, b, c)


def _unpacked(context, builder, signature, args):
    """The intrinsic's arguments, each array as numba's array structure (``.data`` its pointer)."""
    return [context.make_array(t)(context, builder, a) if isinstance(t, types.Array) else a
            for t, a in zip(signature.args, args)]


def _vector_at(context, builder, element, pointer, index, width):
    """(pointer to the ``width`` values at ``pointer[index]`` as one vector, its alignment)."""
    address = builder.gep(pointer, [index]) if index is not None else pointer
    return builder.bitcast(address, ir.VectorType(element, width).as_pointer()), context.get_abi_sizeof(element)


def _make_sums(width: int, listed: bool = False):
    """sums[:width] = the sum over a < count, in order, of weights[m] * x, m = active[a],
    x = sources[m], starting from +0.0, a multiply and an add per source. ``listed`` (a minibatch's
    folded first layer): x = sources[a], the values listed beside their rows (a compressed row's
    pixels and values), each product and add as one fused multiply-add (one rounding, not two)."""
    @intrinsic
    def sums_of(typingctx, weights, active, sources, count, sums):
        def codegen(context, builder, signature, args):
            w, act, src, _, out = _unpacked(context, builder, signature, args)
            element = context.get_data_type(signature.args[0].dtype)
            vector = ir.VectorType(element, width)
            total = cgutils.alloca_once_value(builder, ir.Constant(vector, None))
            with cgutils.for_range(builder, args[3]) as loop:
                m = builder.load(builder.gep(act.data, [loop.index]))
                x = _splat(builder, vector, builder.load(builder.gep(src.data, [loop.index if listed else m])))
                start = builder.mul(m, ir.Constant(m.type, width))
                row, align = _vector_at(context, builder, element, w.data, start, width)
                if listed:
                    value = _fma(builder, builder.load(row, align=align), x, builder.load(total))
                else:
                    value = builder.fadd(builder.load(total), builder.fmul(builder.load(row, align=align), x))
                builder.store(value, total)
            target, align = _vector_at(context, builder, element, out.data, None, width)
            builder.store(builder.load(total), target, align=align)
            return context.get_dummy_value()
        return types.void(weights, active, sources, count, sums), codegen
    return sums_of


def _make_update(width: int, fused: bool = False):
    """With row = weights[m]: row[i] = rule.learned(row[i], slope[i], signal, step) for i < width,
    that is row[i] + (slope[i] * signal) * step where row[i] != 0, each value converted as the
    scalar loop converts it (to signal's type for the arithmetic, back to row's to store). Takes
    the layer and m, not a view of the row, which would cost a reference count per source.
    ``fused``: row[i] + slope[i] * (signal * step), one fused multiply-add per value."""
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
            if fused:
                factor = _splat(builder, vector, builder.fmul(args[3], step_value))
                stepped = _fma(builder, load(g, slope_t, None), factor, weights)
            else:
                change = builder.fmul(builder.fmul(load(g, slope_t, None), _splat(builder, vector, args[3])),
                                      _splat(builder, vector, step_value))
                stepped = builder.fadd(weights, change)
            changed = builder.select(builder.fcmp_unordered("!=", weights, ir.Constant(vector, None)),
                                     stepped, weights)
            element = context.get_data_type(row_t.dtype)
            if element != compute:
                changed = builder.fptrunc(changed, ir.VectorType(element, width))
            pointer, align = _vector_at(context, builder, element, w.data, start, width)
            builder.store(changed, pointer, align=align)
            return context.get_dummy_value()
        return types.void(layer, m, slope, signal, step), codegen
    return update


def _make_pixel_pair_sums(width: int):
    """sums[:width] continues, for a < count in order, with (sums + weights[m] * x) + weights[m + 1] * x,
    m = 2 + 2 * pixels[a] and x = values[a], an IEEE multiply and add per column: a compressed
    row's pixel pairs in ``ed_neuron``'s order and rounding."""
    @intrinsic
    def sums_of(typingctx, weights, pixels, values, count, sums):
        def codegen(context, builder, signature, args):
            w, px, val, _, out = _unpacked(context, builder, signature, args)
            element = context.get_data_type(signature.args[0].dtype)
            vector = ir.VectorType(element, width)
            target, align = _vector_at(context, builder, element, out.data, None, width)
            total = cgutils.alloca_once_value(builder, builder.load(target, align=align))
            two = ir.Constant(args[3].type, 2)
            with cgutils.for_range(builder, args[3]) as loop:
                m = builder.add(two, builder.mul(two, builder.load(builder.gep(px.data, [loop.index]))))
                x = _splat(builder, vector, builder.load(builder.gep(val.data, [loop.index])))
                start = builder.mul(m, ir.Constant(m.type, width))
                value = builder.load(total)
                for column in (start, builder.add(start, ir.Constant(m.type, width))):
                    row, row_align = _vector_at(context, builder, element, w.data, column, width)
                    value = builder.fadd(value, builder.fmul(builder.load(row, align=row_align), x))
                builder.store(value, total)
            builder.store(builder.load(total), target, align=align)
            return context.get_dummy_value()
        return types.void(weights, pixels, values, count, sums), codegen
    return sums_of


def _make_listed_update(width: int, fused: bool):
    """For a < count: row m = first + 2 * rows[a] of ``layer`` steps by (slope * signal) * step, with
    signal = values[a] * factor, where the weight is not 0 (``rule.learned``, lane by lane): a
    compressed row's pixels learning in one loop, each pixel's column of its pair (``first`` 2 or
    3), without a call, a width check or a sign test per pixel. ``fused``: slope * (signal * step)
    in one fused multiply-add per weight. Every argument in the layer's type."""
    @intrinsic
    def update(typingctx, layer, first, rows, values, count, factor, step, slope):
        if len({layer.dtype, values.dtype, factor, step, slope.dtype}) != 1:
            return None
        def codegen(context, builder, signature, args):
            w, _, r, v, _, _, _, g = _unpacked(context, builder, signature, args)
            element = context.get_data_type(signature.args[0].dtype)
            vector = ir.VectorType(element, width)
            gain_row, align = _vector_at(context, builder, element, g.data, None, width)
            gains = builder.load(gain_row, align=align)
            two = ir.Constant(args[1].type, 2)
            with cgutils.for_range(builder, args[4]) as loop:
                m = builder.add(args[1], builder.mul(two, builder.load(builder.gep(r.data, [loop.index]))))
                signal = builder.fmul(builder.load(builder.gep(v.data, [loop.index])), args[5])
                row, row_align = _vector_at(context, builder, element, w.data,
                                            builder.mul(m, ir.Constant(m.type, width)), width)
                weights = builder.load(row, align=row_align)
                if fused:
                    stepped = _fma(builder, gains, _splat(builder, vector, builder.fmul(signal, args[6])), weights)
                else:
                    change = builder.fmul(builder.fmul(gains, _splat(builder, vector, signal)),
                                          _splat(builder, vector, args[6]))
                    stepped = builder.fadd(weights, change)
                keep = builder.fcmp_unordered("!=", weights, ir.Constant(vector, None))
                builder.store(builder.select(keep, stepped, weights), row, align=row_align)
            return context.get_dummy_value()
        return types.void(layer, first, rows, values, count, factor, step, slope), codegen
    return update


_sums_16, _sums_32, _sums_64 = (_make_sums(width) for width in VECTOR_WIDTHS)
_update_16, _update_32, _update_64 = (_make_update(width) for width in VECTOR_WIDTHS)
_fused_update_16, _fused_update_32, _fused_update_64 = (_make_update(width, True) for width in VECTOR_WIDTHS)
_listed_sums_16, _listed_sums_32, _listed_sums_64 = (_make_sums(width, listed=True) for width in VECTOR_WIDTHS)
_listed_update_16, _listed_update_32, _listed_update_64 = (_make_listed_update(width, False) for width in VECTOR_WIDTHS)
_pixel_pair_sums_16, _pixel_pair_sums_32, _pixel_pair_sums_64 = (_make_pixel_pair_sums(width)
                                                                   for width in VECTOR_WIDTHS)
_fused_listed_update_16, _fused_listed_update_32, _fused_listed_update_64 = (_make_listed_update(width, True)
                                                                             for width in VECTOR_WIDTHS)


@numba.njit(cache=True)
def vector_sums(weights, active, sources, count, sums):
    """The layer's sums into ``sums`` if its width has a vector loop (returns True), else False.
    Unchecked: ``sums`` holds at least the width's values and every active source is a row."""
    width = weights.shape[1]
    if width == 16:
        _sums_16(weights, active, sources, count, sums)
    elif width == 32:
        _sums_32(weights, active, sources, count, sums)
    elif width == 64:
        _sums_64(weights, active, sources, count, sums)
    else:
        return False
    return True


@numba.njit(cache=True)
def vector_update(weights, m, slope, signal, step, fused):
    """Source m's learning step into ``weights[m]`` if the layer's width has a vector loop (returns
    True), else False; ``fused``: one fused multiply-add per weight. Unchecked: m is a row and
    ``slope`` holds at least the width's values."""
    width = weights.shape[1]
    if width == 16:
        if fused:
            _fused_update_16(weights, m, slope, signal, step)
        else:
            _update_16(weights, m, slope, signal, step)
    elif width == 32:
        if fused:
            _fused_update_32(weights, m, slope, signal, step)
        else:
            _update_32(weights, m, slope, signal, step)
    elif width == 64:
        if fused:
            _fused_update_64(weights, m, slope, signal, step)
        else:
            _update_64(weights, m, slope, signal, step)
    else:
        return False
    return True


@numba.njit(cache=True)
def listed_sums(weights, rows, values, sums):
    """sums[i] = the sum over a of weights[rows[a], i] * values[a], fused multiply-adds in list order:
    a compressed row's values against the rows they name, read in place (a minibatch's folded first
    layer)."""
    width = weights.shape[1]
    if width == 16:
        _listed_sums_16(weights, rows, values, len(rows), sums)
    elif width == 32:
        _listed_sums_32(weights, rows, values, len(rows), sums)
    elif width == 64:
        _listed_sums_64(weights, rows, values, len(rows), sums)
    else:
        for i in range(width):
            sums[i] = 0.0
        for a in range(len(rows)):
            row, x = weights[rows[a]], values[a]
            for i in range(width):
                sums[i] += row[i] * x


@numba.njit(cache=True)
def listed_update(weights, first, rows, values, factor, step, slopes, fused):
    """Row first + 2 * rows[a] of ``weights`` learns from values[a] * factor for every a (see
    ``_make_listed_update``), if the width has a vector loop (returns True), else False."""
    width = weights.shape[1]
    if width == 16:
        if fused:
            _fused_listed_update_16(weights, first, rows, values, len(rows), factor, step, slopes)
        else:
            _listed_update_16(weights, first, rows, values, len(rows), factor, step, slopes)
    elif width == 32:
        if fused:
            _fused_listed_update_32(weights, first, rows, values, len(rows), factor, step, slopes)
        else:
            _listed_update_32(weights, first, rows, values, len(rows), factor, step, slopes)
    elif width == 64:
        if fused:
            _fused_listed_update_64(weights, first, rows, values, len(rows), factor, step, slopes)
        else:
            _listed_update_64(weights, first, rows, values, len(rows), factor, step, slopes)
    else:
        return False
    return True


@numba.njit(cache=True)
def pixel_pair_sums(weights, pixels, values, sums):
    """``sums`` continued over the pixels' pairs in ``ed_neuron``'s order and rounding (see
    ``_make_pixel_pair_sums``), if the width has a vector loop (returns True), else False."""
    width = weights.shape[1]
    if width == 16:
        _pixel_pair_sums_16(weights, pixels, values, len(pixels), sums)
    elif width == 32:
        _pixel_pair_sums_32(weights, pixels, values, len(pixels), sums)
    elif width == 64:
        _pixel_pair_sums_64(weights, pixels, values, len(pixels), sums)
    else:
        return False
    return True
