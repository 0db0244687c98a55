"""The compiled kernels: each in a ``*_kernel.py`` module, the vectorised exp as exact as it says, and the
ED rule compiled in as Python computes it."""
from pathlib import Path

import numba
import numpy as np
import pytest

from edbench.maths.exp_kernel import exp_array
from edbench.methods.ed import rule, rule_kernel
from edbench.methods.ed.vector_kernel import listed_sums, listed_update, vector_update

PACKAGE = Path(__file__).resolve().parents[1] / "scripts" / "edbench"


def test_every_compiled_kernel_lives_in_a_kernel_module():
    """Test copies of the repository share the compiled-kernel caches of these modules' folders
    (conftest.KERNEL_CACHES), so a kernel elsewhere would compile once per copy."""
    from conftest import KERNEL_CACHES

    outside = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
               if not path.stem.endswith("_kernel")
               and any(mark in path.read_text() for mark in ("njit", "numba.jit", "vectorize("))]
    assert outside == []
    folders = {str(path.parent.relative_to(PACKAGE.parents[1])) for path in PACKAGE.rglob("*_kernel.py")}
    assert folders == {cache.removesuffix("/__pycache__") for cache in KERNEL_CACHES}


def test_vectorised_exp_agrees_with_numpy_to_two_units_in_the_last_place():
    x = np.concatenate([np.linspace(-700, 700, 100_001), np.random.default_rng(0).normal(0, 3, 10_000)])
    out = exp_array(x)
    expected = np.exp(x)
    assert out.dtype == np.float64
    assert np.all(np.abs(out - expected) <= 2 * np.spacing(expected))


def test_single_precision_exp_is_float32_throughout_and_within_four_units():
    x = np.concatenate([np.linspace(-87, 87, 100_001), np.random.default_rng(0).normal(0, 3, 10_000)])
    x = x.astype(np.float32)
    out = exp_array(x)
    expected = np.exp(x.astype(np.float64)).astype(np.float32)
    assert out.dtype == np.float32
    assert np.all(np.abs(out - expected) <= 4 * np.spacing(expected))


@numba.njit
def _rule_in_a_kernel(u, signs, sources, ds, weights, step):
    out = np.empty((4, len(u)))
    for i in range(len(u)):
        out[0, i] = rule_kernel.sigmoid_scalar(u[i], 0.4)
        out[1, i] = rule_kernel.slope(out[0, i], signs[i])
        out[2, i] = rule_kernel.faithful_signal(sources[i], signs[i], ds[i])
        out[3, i] = rule_kernel.learned(weights[i], out[1, i], out[2, i], step)
    return out


def test_the_rule_compiled_into_a_kernel_computes_what_python_does():
    """One definition: compiled in, ``rule``'s functions give Python's results bit for bit (the C
    library's tanh in both), which keeps ed_matrix's online kernel on ed_neuron's weights."""
    rng = np.random.default_rng(1)
    n = 20_000
    u = np.concatenate([rng.normal(0, 2, n - 3), [0.0, 40.0, -40.0]])
    signs, sources, ds = rng.choice([-1.0, 1.0], n), rng.random(n), rng.random(n)
    weights = rng.normal(size=n) * (rng.random(n) < 0.9)
    compiled = _rule_in_a_kernel(u, signs, sources, ds, weights, 0.8)
    for i in range(n):
        o = rule.sigmoid_scalar(float(u[i]), 0.4)
        slope = rule.slope(o, float(signs[i]))
        signal = rule.faithful_signal(float(sources[i]), float(signs[i]), float(ds[i]))
        expected = (o, slope, signal, rule.learned(float(weights[i]), slope, signal, 0.8))
        assert tuple(compiled[:, i]) == expected


@pytest.mark.parametrize("depth,n_classes", [(2, 2), (3, 2), (2, 10), (4, 10)])
def test_deep_eds_stack_has_one_layout_whatever_its_shape(depth, n_classes):
    """numba compiles a kernel once per array layout: the stack is C-ordered at every depth and
    number of networks, so one compiled kernel per dtype serves them all."""
    from edbench import methods
    deep = methods.get("ed_deep")(12, n_classes, {"width": 4, "depth": depth}, 0)
    assert numba.typeof(deep.stack).layout == "C"
    assert all(np.shares_memory(layer, deep.stack) for layer in deep.weights[1:-1])


@numba.njit
def _fused_in_a_kernel(weights, slope, signals, step, active, sources, sums):
    for m in range(weights.shape[0]):
        vector_update(weights, m, slope, signals[m], step, True)
    listed_sums(weights, active, sources[active], sums)


def test_the_minibatch_paths_fused_loops_round_once():
    """Fused, ``vector_update`` is w + slope * (signal * step) and ``listed_sums`` adds each
    w * x to the sum, each with one rounding (exact arithmetic in fractions, rounded once), and a
    weight of exactly zero stays zero."""
    from fractions import Fraction

    rng = np.random.default_rng(5)
    weights = rng.normal(size=(6, 16)) * (rng.random((6, 16)) < 0.9)
    before = weights.copy()
    slope, signals, step = rng.normal(size=16), rng.normal(size=6), 0.37
    active, sources, sums = np.array([0, 2, 3, 5]), rng.normal(size=6), np.empty(16)
    _fused_in_a_kernel(weights, slope, signals, step, active, sources, sums)
    for m in range(6):
        for i in range(16):
            factor = Fraction(float(signals[m] * step))
            expected = float(Fraction(before[m, i]) + Fraction(slope[i]) * factor) if before[m, i] != 0 else 0.0
            assert weights[m, i] == expected
    for i in range(16):
        total = 0.0
        for m in active:
            total = float(Fraction(total) + Fraction(weights[m, i]) * Fraction(sources[m]))
        assert sums[i] == total


@pytest.mark.parametrize("first", [2, 3])
def test_a_compressed_rows_pixels_learn_their_pair_column_in_one_loop(first):
    """``listed_update`` steps row first + 2p for each listed pixel p by slope * ((x * factor) *
    step), rounded once per weight, leaves a weight of exactly zero at zero and every other row
    as it was."""
    from fractions import Fraction

    rng = np.random.default_rng(7)
    weights = rng.normal(size=(12, 32)) * (rng.random((12, 32)) < 0.9)
    before = weights.copy()
    slope, pixels, values = rng.normal(size=32), np.array([0, 2, 3]), rng.normal(size=3)
    factor, step = -0.83, 0.37
    assert _listed_in_a_kernel(weights, first, pixels, values, factor, step, slope)
    learned = {first + 2 * p: a for a, p in enumerate(pixels)}
    for m in range(12):
        for i in range(32):
            if m not in learned or before[m, i] == 0:
                assert weights[m, i] == before[m, i]
                continue
            change = Fraction(float(float(values[learned[m]] * factor) * step))
            assert weights[m, i] == float(Fraction(before[m, i]) + Fraction(slope[i]) * change)


@numba.njit
def _listed_in_a_kernel(weights, first, pixels, values, factor, step, slope):
    return listed_update(weights, first, pixels, values, factor, step, slope, True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("shape", [(1,), (7,), (1570, 64), (3, 5, 17)])
def test_aligned_arrays_start_on_a_cache_line(shape, dtype):
    from edbench.maths import aligned, aligned_kernel

    for make in (aligned.empty, aligned.ones):
        out = make(shape, dtype)
        assert out.shape == shape and out.dtype == dtype and out.flags.c_contiguous and out.flags.writeable
        assert out.ctypes.data % aligned.CACHE_LINE == 0
    assert np.all(aligned.ones(shape, dtype) == 1)
    compiled = numba.njit(lambda n, like: [aligned_kernel.empty_like_line(n + j, like).ctypes.data % 64
                                          for j in range(9)])
    assert compiled(int(np.prod(shape)), np.zeros(1, dtype)) == [0] * 9


def test_every_network_layer_of_the_flat_buffer_starts_on_a_cache_line():
    """The vector loops read a layer's rows as whole vectors: rows 64 bytes wide start on lines only
    if every network's layer does, whatever the widths of the layers before it."""
    from edbench.methods.ed import online_kernel

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        shapes = [(3, 16, 12), (3, 1, 18), (3, 16, 3), (3, 1, 18)]   # a layer of odd size before a vector one
        weights = [rng.normal(size=shape) for shape in shapes]
        layers, views, source_major = online_kernel.flatten(weights, dtype)
        for layer, w in enumerate(weights):
            assert np.array_equal(views[layer], w.astype(dtype))
            for k in range(3):
                block = online_kernel._layer(layers.flat, layers.offsets, layers.cells, layers.columns, layer, k)
                assert np.shares_memory(block, layers.flat) and np.array_equal(block, w[k].T.astype(dtype))
                if (block.shape[1] * block.itemsize) % 64 == 0 or k == 0:
                    assert block.ctypes.data % 64 == 0, (dtype, layer, k)


@pytest.mark.parametrize("width", [4, 8, 16])
def test_deep_stack_outputs_are_sigmoids_of_fused_chains_in_source_order(width):
    """``stack_kernel.layer_forward`` computes what ``deep_kernel``'s loop does, to the bit: per cell
    and sample, bias, then each source's product added with one rounding (exact arithmetic in
    fractions, rounded once), in source order, times the scale, and the sum's sigmoid
    1 / (1 + exp) with the vector exp. It reads layer 1 of network 1 from the whole arrays and
    writes layer 2's outputs over the batch's whole passes: the rest is not written."""
    from fractions import Fraction

    from edbench.methods.ed import stack_kernel

    rng = np.random.default_rng(width)
    batch, scale, layer, k = 100, -2.0 / 0.4, 1, 1
    stack, biases = rng.normal(size=(2, 2, width, 2 + width)), rng.normal(size=width)
    outputs = rng.random((3, 2, width, batch))
    outputs[layer + 1] = np.nan
    done = numba.njit(lambda outputs: stack_kernel.sums_count(outputs))(outputs)
    numba.njit(lambda *args: stack_kernel.layer_forward(*args))(stack, outputs, layer, k, biases, done, scale)
    assert 0 < done <= batch and done % 8 == 0
    written = outputs[layer + 1, k]
    assert np.isnan(written[:, done:]).all() and np.isnan(outputs[layer + 1, 1 - k]).all()
    weights, sources = stack[layer, k], outputs[layer, k]
    for i in range(width):
        sums = []
        for b in range(done):
            total = biases[i]
            for j in range(width):
                total = float(Fraction(total) + Fraction(weights[i, 2 + j]) * Fraction(sources[j, b]))
            sums.append(total * scale)
        assert np.array_equal(written[i, :done], 1.0 / (1.0 + exp_array(np.array(sums))))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("width", [4, 8, 16])
def test_deep_stack_learning_sums_gains_times_signals_over_the_batch(width, dtype):
    """``stack_kernel.layer_learning`` for layer 1 of network 1: each cell's gain
    o(1 - o) * along, its signal upward o * passed into the other half of ``signals``, and every
    weight's sum of gains times its source's signals over the batch's whole vectors, against NumPy
    in float64 (to the sums' rounding). The rest of the batch, and the other half's bias rows, are
    not touched."""
    from edbench.methods.ed import stack_kernel

    rng = np.random.default_rng(width)
    batch, layer, k, columns = 100, 1, 1, 2 + width
    outputs = rng.random((3, 2, width, batch)).astype(dtype)
    along, passed = rng.normal(size=(width, batch)).astype(dtype), rng.normal(size=(width, batch)).astype(dtype)
    signals = rng.normal(size=(2, columns, batch)).astype(dtype)
    before, totals = signals.copy(), np.full((width, columns), np.nan, dtype=dtype)
    done = numba.njit(lambda outputs: stack_kernel.vector_count(outputs))(outputs)
    learn = numba.njit(lambda *args: stack_kernel.layer_learning(*args))
    learn(outputs, along, passed, signals, layer, k, done, totals)
    assert done == batch // (64 // np.dtype(dtype).itemsize) * (64 // np.dtype(dtype).itemsize)
    o = outputs[layer + 1, k].astype(np.float64)
    gains = (o * (1 - o) * along)[:, :done]
    expected = gains @ before[layer % 2, :, :done].astype(np.float64).T
    assert np.allclose(totals, expected, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=0)
    upward = signals[(layer + 1) % 2]
    assert np.array_equal(upward[2:, :done], (outputs[layer + 1, k] * passed)[:, :done])
    assert np.array_equal(upward[2:, done:], before[(layer + 1) % 2, 2:, done:])
    assert np.array_equal(upward[:2], before[(layer + 1) % 2, :2])
    assert np.array_equal(signals[layer % 2], before[layer % 2])
