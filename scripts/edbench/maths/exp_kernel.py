"""A vectorisable exp and sigmoid for numba loops, in float64 and float32, written as LLVM vector
code.

numba calls the C library's exp one element at a time; this exp is branch-free arithmetic (range
reduction by ln 2, a Taylor polynomial, and 2**k built from its bits) on whole vectors of a cache
line (16 floats or 8 doubles), the polynomial's multiply-adds fused (FMA: one rounding instead of
two). In float64 (degree 13, inputs clamped to [-700, 700]) it agrees with numpy.exp to within 2
units in the last place, in float32 (degree 7, all arithmetic in float32, clamped to [-87, 87]) to
within 4 (tests/test_kernels.py).

``emit_exp`` and ``emit_sigmoid`` write the arithmetic into another kernel's code, so that a value
goes from its sum to its sigmoid in registers (``stack_kernel``); ``exp_into`` and
``sigmoid_into`` run it over arrays. Written as loops for LLVM to vectorise, the same arithmetic
ran on 32-byte vectors (numba's target prefers them), read each constant from memory on every
iteration, and took a pass for the exp and another for 1 / (1 + e).
"""
from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from edbench.maths.aligned import CACHE_LINE

LOG2E = 1.4426950408889634
INV_FACTORIALS = tuple(1.0 / math.factorial(n) for n in range(14))
# Per precision: the clamp, ln 2 in two parts (the first exact in few bits), the polynomial's
# degree, and the exponent's bias and position.
PRECISIONS = {"float": (87.0, 0.693359375, -2.12194440e-4, 7, 127, 23),
              "double": (700.0, 0.6931471803691238, 1.9082149292705877e-10, 13, 1023, 52)}


def vector_intrinsic(builder, name, value, *more):
    """The LLVM intrinsic ``name`` (llvm.fma, llvm.floor, ...) on vectors of ``value``'s type."""
    vector = value.type
    suffix = f"v{vector.count}{'f64' if vector.element == ir.DoubleType() else 'f32'}"
    function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector, [vector] * (1 + len(more))),
                                              f"llvm.{name}.{suffix}")
    return builder.call(function, [value, *more])


def emit_exp(builder, xs):
    """exp of each lane of each vector in the list ``xs``: clamp, k = floor(x log2(e) + 1/2),
    r = x - k ln 2 (in two parts), the polynomial of r times 2**k, whose bits are k + bias in the
    exponent's place. Each step is written for all the vectors before the next, so that their
    chains of dependent steps run side by side (one vector's exp is a chain of about 20)."""
    vector = xs[0].type
    limit, ln2_hi, ln2_lo, degree, bias, shift = PRECISIONS[str(vector.element)]
    integer = ir.VectorType(ir.IntType(32 if shift == 23 else 64), vector.count)

    def splat(value):
        return ir.Constant(vector, value)

    def call(name, *values):
        return vector_intrinsic(builder, name, *values)

    def each(step, *columns):
        return [step(*values) for values in zip(*columns)]

    value = each(lambda x: call("minnum", call("maxnum", x, splat(-limit)), splat(limit)), xs)
    k = each(lambda v: call("floor", call("fma", v, splat(LOG2E), splat(0.5))), value)
    minus_k = each(builder.fneg, k)
    r = each(lambda m, v: call("fma", m, splat(ln2_hi), v), minus_k, value)
    r = each(lambda m, v: call("fma", m, splat(ln2_lo), v), minus_k, r)
    polynomial = [splat(INV_FACTORIALS[degree])] * len(xs)
    for coefficient in reversed(INV_FACTORIALS[:degree]):
        polynomial = each(lambda x, p, c=coefficient: call("fma", x, p, splat(c)), r, polynomial)
    exponent = each(lambda kk: builder.shl(builder.add(builder.fptosi(kk, integer), ir.Constant(integer, bias)),
                                           ir.Constant(integer, shift)), k)
    return each(lambda p, e: builder.fmul(p, builder.bitcast(e, vector)), polynomial, exponent)


def emit_sigmoid(builder, xs):
    """1 / (1 + exp(x)) of each lane of each vector in the list ``xs``, side by side."""
    one = ir.Constant(xs[0].type, 1.0)
    return [builder.fdiv(one, builder.fadd(one, e)) for e in emit_exp(builder, xs)]


def _over_array(emit):
    """An intrinsic (x, out): out[n] = emit(x[n]) for every n of the 1-D contiguous arrays, whole
    vectors of a cache line, then the rest one lane at a time."""
    @intrinsic
    def over_array(typingctx, x, out):
        def codegen(context, builder, signature, args):
            source, target = (context.make_array(t)(context, builder, a) for t, a in zip(signature.args, args))
            element = context.get_data_type(signature.args[0].dtype)
            lanes = CACHE_LINE // context.get_abi_sizeof(element)
            size = builder.extract_value(source.shape, 0)
            whole = builder.mul(builder.udiv(size, ir.Constant(size.type, lanes)), ir.Constant(size.type, lanes))
            for start, stop, width in ((ir.Constant(size.type, 0), whole, lanes), (whole, size, 1)):
                vector = ir.VectorType(element, width).as_pointer()
                with cgutils.for_range_slice(builder, start, stop, ir.Constant(size.type, width), inc=True) as (n, _):
                    value = builder.load(builder.bitcast(builder.gep(source.data, [n]), vector), align=1)
                    builder.store(emit(builder, [value])[0], builder.bitcast(builder.gep(target.data, [n]), vector),
                                  align=1)
            return context.get_dummy_value()
        if not (isinstance(x, types.Array) and isinstance(out, types.Array) and x.ndim == out.ndim == 1
                and x.layout == out.layout == "C" and x.dtype == out.dtype in (types.float32, types.float64)):
            return None
        return types.void(x, out), codegen
    return over_array


exp_into = _over_array(emit_exp)   # out[:] = exp(x[:]), in x's precision
sigmoid_into = _over_array(emit_sigmoid)   # out[:] = 1 / (1 + exp(x[:])), in one pass


@numba.njit(cache=True)
def exp_array(x):
    """exp of a 1-d array through ``exp_into`` (for tests and callers outside numba)."""
    out = np.empty_like(x)
    exp_into(x, out)
    return out
