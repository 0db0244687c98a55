"""Deep ED's stack layers over the minibatch, as vector code, for ``deep_kernel``: each layer's
outputs from its sources (``layer_forward``) and its learning (``layer_learning``).

A stack layer's sums are a small product: each of ``width`` cells adds its bias and ``width``
weights times the sources, over the batch. Here a vector of the batch (a cache line: 8 doubles or
16 floats) loads every source's values once and serves every cell, each cell's sum a chain of fused
multiply-adds in source order, held in a register (the same sums to the bit as ``deep_kernel``'s
loop for the rest of the batch), and each vector of sums goes on to its sigmoid in registers
(``exp_kernel.emit_sigmoid``), eight side by side so that their chains of dependent steps overlap.
Three passes over each layer's values (the sums into a row, the exp, the division) had cost more
than the sigmoids' arithmetic itself.

A layer's learning is a product the other way: each weight's change is a sum over the batch of its
cell's gain times its source's signal. A pass over the batch keeps a register of sums per weight
and lane for a cell or two against all their sources, and every register's lanes are added up
together at the end.

Both take the arrays whole, with the layer and network as indices, and choose the width inside:
a view of one layer, or an array passed to a compiled function, costs an atomic reference count
each time, which took 35-45% of the stack's learning in a profile (perf, float32, width 4).
"""
from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, register_jitable

from edbench.maths.aligned import CACHE_LINE
from edbench.maths.exp_kernel import emit_sigmoid
from edbench.methods.ed.vector_kernel import _fma, _splat, _unpacked

LAYER_WIDTHS = (4, 8, 16)
SIDE_BY_SIDE = 8   # vectors of sums taken to their sigmoids together, step by step


@register_jitable
def vectors_a_pass(width: int) -> int:
    """Vectors of the batch a pass takes (a vector: a cache line of values): at least eight chains
    of sums in flight, as many as the multiply-add units need to keep busy (two units, four cycles
    each)."""
    return max(1, 8 // width)


def _for_each_width(emit, outputs_at: int, context, builder, signature, args):
    """``emit(width, context, builder, signature, args)`` for each width of ``LAYER_WIDTHS``, run
    where the outputs' (argument ``outputs_at``) third dimension is that width."""
    outputs = context.make_array(signature.args[outputs_at])(context, builder, args[outputs_at])
    width = cgutils.unpack_tuple(builder, outputs.shape, 4)[2]
    for candidate in LAYER_WIDTHS:
        with builder.if_then(builder.icmp_signed("==", width, ir.Constant(width.type, candidate))):
            emit(candidate, context, builder, signature, args)


def _emit_layer_forward(width: int, context, builder, signature, args):
    """outputs[layer + 1, k, i, b] = f(u), f(u) = 1 / (1 + exp(u)) (``exp_kernel.emit_sigmoid``), u =
    (the fused multiply-adds biases[i] + w[i, 2 + j] * x[j, b], in source order j < width) * scale,
    for every cell i and b < count, with w = stack[layer, k] and x = outputs[layer, k]; count a
    multiple of the values a pass takes. A vector of the batch takes every source's values once and
    serves every cell; the cells' sums are chains of their own, as many as the width, and each goes
    to its sigmoid in registers."""
    stack, outputs, _, _, bias, _, _ = _unpacked(context, builder, signature, args)
    stack_type, outputs_type = signature.args[:2]
    layer, network, count = args[2], args[3], args[5]
    element = context.get_data_type(outputs_type.dtype)
    align = context.get_abi_sizeof(element)
    vector = ir.VectorType(element, CACHE_LINE // align)
    scale = _splat(builder, vector, args[6])
    above = builder.add(layer, ir.Constant(layer.type, 1))
    per_pass = vectors_a_pass(width)

    def at(index):
        return ir.Constant(ir.IntType(64), index)

    def vector_at(pointer):
        return builder.bitcast(pointer, vector.as_pointer())

    def weight(i, j):
        address = cgutils.get_item_pointer(context, builder, stack_type, stack, [layer, network, i, at(2 + j)])
        return builder.load(address)

    def to_outputs(group):
        """Each (sources' values, cell, sample) of ``group``: the cell's sum, its sigmoid, stored."""
        totals = [_splat(builder, vector, builder.load(builder.gep(bias.data, [i]))) for _, i, _ in group]
        for j in range(width):
            totals = [_fma(builder, _splat(builder, vector, weight(i, j)), values[j], total)
                      for (values, i, _), total in zip(group, totals)]
        outputs_of = emit_sigmoid(builder, [builder.fmul(total, scale) for total in totals])
        for (_, i, b), output in zip(group, outputs_of):
            target = cgutils.get_item_pointer(context, builder, outputs_type, outputs, [above, network, i, b])
            builder.store(output, vector_at(target), align=align)

    with cgutils.for_range_slice(builder, at(0), count, at(vector.count * per_pass), inc=True) as (first, _):
        places = []
        for b in (builder.add(first, at(v * vector.count)) for v in range(per_pass)):
            values = [builder.load(vector_at(cgutils.get_item_pointer(
                context, builder, outputs_type, outputs, [layer, network, at(j), b])), align=align)
                for j in range(width)]
            places += [(values, at(i), b) for i in range(width)]
        if len(places) <= SIDE_BY_SIDE:
            to_outputs(places)
        else:   # one vector a pass, its cells in groups, looped rather than unrolled (compile time)
            with cgutils.for_range(builder, at(width // SIDE_BY_SIDE)) as group:
                first_cell = builder.mul(group.index, at(SIDE_BY_SIDE))
                to_outputs([(values, builder.add(first_cell, at(a)), b) for a in range(SIDE_BY_SIDE)])


@intrinsic
def layer_forward(typingctx, stack, outputs, layer, k, biases, count, scale):
    """Stack layer ``layer``'s outputs of network ``k`` from its sums times ``scale``, over the
    batch's first ``count`` samples (``sums_count``), as ``_emit_layer_forward`` computes them, for
    widths 4, 8 and 16 (``count`` 0 for others). ``stack`` is (layers, K, width, 2 + width),
    ``outputs`` (layers + 1, K, width, batch), ``biases`` each cell's bias term. The arrays come
    whole, with the indices, as in ``layer_learning``."""
    def codegen(context, builder, signature, args):
        _for_each_width(_emit_layer_forward, 1, context, builder, signature, args)
        return context.get_dummy_value()
    return types.void(stack, outputs, types.int64, types.int64, biases, types.int64, scale), codegen


@register_jitable
def sums_count(outputs) -> int:
    """How much of the batch ``layer_forward`` can take: its whole passes (``vectors_a_pass``)."""
    return _whole_passes(outputs, vectors_a_pass(outputs.shape[2]))


@register_jitable
def _whole_passes(outputs, vectors: int) -> int:
    """The batch's samples in whole passes of ``vectors`` vectors where the width is 4, 8 or 16 and
    the batch's values are contiguous, else 0."""
    width, batch = outputs.shape[2], outputs.shape[3]
    if outputs.strides[3] != outputs.itemsize or not (width == 4 or width == 8 or width == 16):
        return 0
    taken = CACHE_LINE // outputs.itemsize * vectors   # the values a pass takes
    return batch // taken * taken


def _cells_a_pass(columns: int) -> int:
    """Cells a pass of ``layer_learning`` takes, each against all its sources: about twelve sums in
    registers at a time. Four cells by six or five sources a pass spilled registers to memory; in
    isolation (float64, batch 128) two cells by six at width 4 ran 15% faster than four by six,
    and one cell by ten at width 8 20% faster than four by five."""
    return max(1, 12 // columns)


def _halve_groups(builder, left, right, groups: int, lanes: int):
    """Two vectors whose lanes form ``groups`` groups each, into one of twice the groups of half the
    lanes: each group's two halves added, the left vector's groups at even places, the right's at
    odd ones."""
    length = lanes // groups
    first = [base + g * length + h for g in range(groups) for base in (0, lanes) for h in range(length // 2)]
    second = [index + length // 2 for index in first]
    mask = [ir.Constant(ir.VectorType(ir.IntType(32), lanes), order) for order in (first, second)]
    return builder.fadd(builder.shuffle_vector(left, right, mask[0]), builder.shuffle_vector(left, right, mask[1]))


def _lane_totals(builder, vectors, lanes: int):
    """Each vector's lanes added up, all together: pairs of vectors halved level by level (a zero
    vector beside an odd one out) until every lane holds one vector's total. Returns (index, vector,
    lane) for each input vector, in the inputs' order."""
    zero = ir.Constant(vectors[0].type, 0.0)
    level = [(vector, [index]) for index, vector in enumerate(vectors)]
    groups = 1
    while groups < lanes:
        if len(level) % 2:
            level.append((zero, [None] * groups))
        level = [(_halve_groups(builder, a, b, groups, lanes), [i for pair in zip(ia, ib) for i in pair])
                 for (a, ia), (b, ib) in zip(level[::2], level[1::2])]
        groups *= 2
    return sorted(((owner, vector, lane) for vector, owners in level for lane, owner in enumerate(owners)
                   if owner is not None), key=lambda entry: entry[0])


def _emit_layer_learning(width: int, context, builder, signature, args):
    """One pass of stack layer ``layer``'s learning, of network ``k``, over the batch's first
    ``count`` samples (a multiple of the vector's lanes), for every cell i < width and source column
    m < 2 + width, with o = outputs[layer + 1, k]:

    - gain[i, b] = (o[i, b] * (1 - o[i, b])) * along[i, b], rounded as ``deep_kernel``'s loop;
    - signals[(layer + 1) % 2, 2 + i, b] = o[i, b] * passed[i, b], the signal cell i passes up;
    - totals[i, m] = the sum over b of gain[i, b] * signals[layer % 2, m, b], each lane of the
      batch in a register of its own until the lanes are added up together at the end
      (``_lane_totals``).

    The gains are made in registers and used at once; a pass takes ``_cells_a_pass`` cells against
    all their sources."""
    columns = 2 + width
    cells_a_pass = _cells_a_pass(columns)
    o, e, d, s, _, _, _, totals = _unpacked(context, builder, signature, args)
    o_type, e_type, d_type, s_type = signature.args[:4]
    element = context.get_data_type(o_type.dtype)
    align = context.get_abi_sizeof(element)
    vector = ir.VectorType(element, CACHE_LINE // align)
    one = ir.Constant(vector, 1.0)
    layer, network, count = args[4], args[5], args[6]

    def at(index):
        return ir.Constant(ir.IntType(64), index)

    source_half = builder.urem(layer, at(2))
    target_half, above = builder.sub(at(1), source_half), builder.add(layer, at(1))

    def pointer(array, array_type, indices):
        address = cgutils.get_item_pointer(context, builder, array_type, array, indices)
        return builder.bitcast(address, vector.as_pointer())

    def load(array, array_type, indices):
        return builder.load(pointer(array, array_type, indices), align=align)

    # The passes over the cells run as a loop, not unrolled: at width 16, sixteen passes' code took
    # seconds of every fresh process's compile.
    with cgutils.for_range(builder, at(width // cells_a_pass)) as cell_pass:
        first_cell = builder.mul(cell_pass.index, at(cells_a_pass))
        cells = [builder.add(first_cell, at(a)) for a in range(cells_a_pass)]
        slots = [[cgutils.alloca_once(builder, vector) for _ in range(columns)] for _ in cells]
        for slot in (slot for row in slots for slot in row):
            builder.store(ir.Constant(vector, 0.0), slot)
        with cgutils.for_range_slice(builder, at(0), count, at(vector.count), inc=True) as (b, _):
            gains = []
            for i in cells:
                value = load(o, o_type, [above, network, i, b])
                gains.append(builder.fmul(builder.fmul(value, builder.fsub(one, value)), load(e, e_type, [i, b])))
                builder.store(builder.fmul(value, load(d, d_type, [i, b])),
                              pointer(s, s_type, [target_half, builder.add(i, at(2)), b]), align=align)
            for m in range(columns):
                signal = load(s, s_type, [source_half, at(m), b])
                for gain, row in zip(gains, slots):
                    builder.store(_fma(builder, gain, signal, builder.load(row[m])), row[m])
        flat = [slot for row in slots for slot in row]
        for owner, total, lane in _lane_totals(builder, [builder.load(slot) for slot in flat], vector.count):
            a, m = divmod(owner, columns)
            target = builder.gep(totals.data, [builder.add(builder.mul(cells[a], at(columns)), at(m))])
            builder.store(builder.extract_element(total, ir.Constant(ir.IntType(32), lane)), target)


@intrinsic
def layer_learning(typingctx, outputs, along, passed, signals, layer, k, count, totals):
    """Stack layer ``layer``'s gains, its cells' signals upward and its sums over the batch's first
    ``count`` samples into ``totals`` (width, 2 + width), as ``_emit_layer_learning`` computes them,
    for widths 4, 8 and 16 (``count`` 0 for others, which it leaves alone); ``count`` a multiple of
    the vector's lanes, and the batch's values contiguous. ``outputs`` is (layers + 1, K, width,
    batch), ``along`` and ``passed`` (width, batch), ``signals`` (2, 2 + width, batch).

    The arrays come whole, with the indices (see the module's docstring)."""
    def codegen(context, builder, signature, args):
        _for_each_width(_emit_layer_learning, 0, context, builder, signature, args)
        return context.get_dummy_value()
    return types.void(outputs, along, passed, signals, types.int64, types.int64, types.int64, totals), codegen


@register_jitable
def vector_count(outputs) -> int:
    """How much of the batch ``layer_learning`` can take: its whole vectors."""
    return _whole_passes(outputs, 1)
