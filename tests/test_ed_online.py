"""The sparse, network-parallel ED kernel: online bit for bit ed_neuron's weights, and any thread count's."""
import numba
import numpy as np
import pytest

from edbench import methods
from edbench.methods.base import unchangeable
from edbench.methods.ed import vector_kernel


def sparse_digits(n=30, inputs=50, classes=2, seed=0):
    """MNIST-like inputs: most values exactly zero, the rest in (0, 1]."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, inputs)) * (rng.random((n, inputs)) < 0.2)
    x[:, :5] = 0.0
    return x, rng.integers(0, classes, n)


@pytest.mark.parametrize("rule", ["faithful", "bidirectional"])
@pytest.mark.parametrize("classes,hidden", [(2, [16, 16, 16]), (10, [5]), (2, [3]), (2, [64, 32])])
def test_sparse_online_kernel_is_bit_identical_to_ed_neuron(rule, classes, hidden):
    x, y = sparse_digits(classes=classes)
    params = {"hidden": hidden, "rule": rule, "alpha": 0.8}
    neuron = methods.get("ed_neuron")(x.shape[1], classes, params, 3)
    matrix = methods.get("ed_matrix")(x.shape[1], classes, params, 3)
    start = matrix.get_weights()
    for _ in range(3):
        neuron.train_epoch(x, y)
        matrix.train_epoch(x, y)
    for a, b, before in zip(neuron.get_weights(), matrix.get_weights(), start):
        assert np.array_equal(a, b)
        assert not np.array_equal(b, before)


def test_rows_kept_across_epochs_give_ed_neurons_weights():
    """The runner's read-only training set is compressed once; every later epoch's shuffled order reads
    the kept rows in place, and the weights still match ed_neuron's bit for bit."""
    x, y = sparse_digits(classes=10)
    x.setflags(write=False)
    params = {"hidden": [16, 5], "alpha": 0.8, "shuffle": True}
    neuron = methods.get("ed_neuron")(x.shape[1], 10, params, 3)
    matrix = methods.get("ed_matrix")(x.shape[1], 10, params, 3)
    for _ in range(3):
        neuron.train_epoch(x, y)
        matrix.train_epoch(x, y)
    assert matrix.nonzero_rows(x[:]) is matrix.nonzero_rows(x)
    assert all(np.array_equal(a, b) for a, b in zip(neuron.get_weights(), matrix.get_weights()))


def test_rows_are_not_kept_for_inputs_that_can_change():
    x, _ = sparse_digits()
    matrix = methods.get("ed_matrix")(x.shape[1], 2, {"hidden": [4]}, 0)
    assert matrix.nonzero_rows(x) is not matrix.nonzero_rows(x)
    frozen = x.copy()
    frozen.setflags(write=False)
    first = matrix.nonzero_rows(frozen[:])
    frozen.setflags(write=True)   # its owner made writable again: the kept rows no longer hold
    frozen[0, 0] = 7.0
    view = frozen[:]
    view.setflags(write=False)
    assert not unchangeable(view)
    starts, pixels, values = matrix.nonzero_rows(view)
    assert values[0] == 7.0 and pixels[0] == 0 and first[1][0] != 0


def test_saturated_cells_are_skipped_exactly():
    x, y = sparse_digits(classes=2)
    params = {"hidden": [8, 8], "u0": 0.01, "alpha": 2.0}
    neuron = methods.get("ed_neuron")(x.shape[1], 2, params, 1)
    matrix = methods.get("ed_matrix")(x.shape[1], 2, params, 1)
    neuron.train_epoch(x * 50, y)
    matrix.train_epoch(x * 50, y)
    assert all(np.array_equal(a, b) for a, b in zip(neuron.get_weights(), matrix.get_weights()))


@pytest.mark.parametrize("batch", [1, 8])
def test_weights_do_not_depend_on_the_thread_count(batch):
    x, y = sparse_digits(n=60, classes=10)
    results = []
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        matrix = methods.get("ed_matrix")(x.shape[1], 10, {"hidden": [8], "batch_size": batch}, 0)
        matrix.train_epoch(x, y)
        results.append(matrix.get_weights())
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert all(np.array_equal(a, b) for a, b in zip(*results))


@pytest.mark.slow
def test_float32_online_runs_in_float32_and_stays_close():
    x, y = sparse_digits(classes=10)
    single = methods.get("ed_matrix")(x.shape[1], 10, {"hidden": [8], "dtype": "float32"}, 0)
    double = methods.get("ed_matrix")(x.shape[1], 10, {"hidden": [8]}, 0)
    assert single.flat_layers.flat.dtype == np.float32
    single.train_epoch(x, y)
    double.train_epoch(x, y)
    for a, b in zip(single.get_weights(), double.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_deep_ed_weights_do_not_depend_on_the_thread_count():
    x, y = sparse_digits(n=64, classes=10)
    results = []
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        deep = methods.get("ed_deep")(x.shape[1], 10, {"depth": 6, "width": 4, "batch_size": 16}, 0)
        deep.train_epoch(x, y)
        results.append(deep.get_weights())
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert all(np.array_equal(a, b) for a, b in zip(*results))


@pytest.mark.slow
def test_deep_ed_float32_runs_in_float32_and_stays_close():
    x, y = sparse_digits(n=64, classes=10)
    runs = {}
    for dtype in ("float32", "float64"):
        deep = methods.get("ed_deep")(x.shape[1], 10, {"depth": 6, "width": 4, "batch_size": 16, "dtype": dtype}, 0)
        deep.train_epoch(x, y)
        runs[dtype] = deep
    assert runs["float32"].stack.dtype == np.float32
    for a, b in zip(runs["float32"].get_weights(), runs["float64"].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("rule", ["faithful", "bidirectional"])
@pytest.mark.parametrize("classes", [2, 10])
def test_every_sample_of_either_error_sign_keeps_the_weights_bit_identical(rule, classes):
    """Sample by sample: the faithful kernel learns only the columns whose sign matches the error's
    (the others' change is exactly 0), so a wrong choice of columns shows at the first sample."""
    x, y = sparse_digits(n=12, classes=classes, seed=5)
    params = {"hidden": [6, 4], "rule": rule, "alpha": 0.8}
    neuron = methods.get("ed_neuron")(x.shape[1], classes, params, 2)
    matrix = methods.get("ed_matrix")(x.shape[1], classes, params, 2)
    signs = set()
    for row in range(len(y)):
        targets = (y[row] == np.arange(classes)) if classes > 2 else [y[row]]
        signs |= set(np.sign(np.asarray(targets, float) - matrix.outputs(x[row:row + 1])[0]))
        before = matrix.get_weights()
        neuron.train_epoch(x[row:row + 1], y[row:row + 1])
        matrix.train_epoch(x[row:row + 1], y[row:row + 1])
        for a, b in zip(neuron.get_weights(), matrix.get_weights()):
            assert np.array_equal(a, b)
        assert any(not np.array_equal(b, old) for b, old in zip(matrix.get_weights(), before))
    assert signs == {-1.0, 1.0}


def test_an_error_of_exactly_zero_changes_nothing():
    x, _ = sparse_digits(n=1, classes=2, seed=1)
    params = {"hidden": [4], "u0": 1e-4}
    matrix = methods.get("ed_matrix")(x.shape[1], 2, params, 0)
    output = matrix.outputs(x)[0, 0]
    assert output in (0.0, 1.0)              # saturated: the label can equal it exactly
    y = np.array([int(output)])
    neuron = methods.get("ed_neuron")(x.shape[1], 2, params, 0)
    before = matrix.get_weights()
    assert matrix.train_epoch(x, y) == 0.0
    neuron.train_epoch(x, y)
    for a, b, old in zip(neuron.get_weights(), matrix.get_weights(), before):
        assert np.array_equal(a, b) and np.array_equal(b, old)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("width", vector_kernel.VECTOR_WIDTHS)
def test_vector_cell_loops_round_as_the_scalar_loops(width, dtype):
    """The vector sums add each source's product in order from +0.0, the pixel pairs' sums each
    pixel's two products in column order from the sums given, and the vector update
    computes (slope * signal) * step in signal's type, adds it where the weight is not 0 and rounds
    back to the row's type: as the scalar loops and ed_neuron's Python do, with no fused multiply-add."""
    rng = np.random.default_rng(width)
    weights = (rng.normal(size=(9, width)) * (rng.random((9, width)) < 0.8)).astype(dtype)
    sources = rng.random(9).astype(dtype)
    active = np.array([0, 3, 4, 7], dtype=np.int64)
    sums = np.full(width + 3, 7.0, dtype=dtype)
    assert vector_kernel.vector_sums(weights, active, sources, len(active), sums)
    expected = np.zeros(width, dtype=dtype)
    for m in active:
        expected = expected + weights[m] * sources[m]
    assert np.array_equal(sums[:width], expected) and np.all(sums[width:] == 7.0)
    pixels, values, start = np.array([0, 1, 2]), sources[:3], rng.normal(size=width).astype(dtype)
    sums = np.concatenate([start, np.full(3, 7.0, dtype=dtype)])
    assert vector_kernel.pixel_pair_sums(weights, pixels, values, sums)
    expected = start
    for p, x in zip(pixels, values):
        expected = (expected + weights[2 + 2 * p] * x) + weights[3 + 2 * p] * x
    assert np.array_equal(sums[:width], expected) and np.all(sums[width:] == 7.0)
    before, slope = weights.copy(), rng.normal(size=width).astype(dtype)
    signal, step = 0.3 * rng.random(), dtype(0.1) * dtype(0.8)
    assert vector_kernel.vector_update(weights, 2, slope, signal, step, False)
    change = (slope.astype(float) * signal) * float(step)
    expected = np.where(before[2] != 0.0, before[2].astype(float) + change, before[2]).astype(dtype)
    assert np.array_equal(weights[2], expected) and np.array_equal(weights[2] == 0.0, before[2] == 0.0)
    assert np.array_equal(np.delete(weights, 2, axis=0), np.delete(before, 2, axis=0))


def test_other_widths_fall_back_to_the_scalar_loops():
    weights, sums = np.ones((3, 12)), np.zeros(12)
    assert not vector_kernel.vector_sums(weights, np.array([0]), np.ones(3), 1, sums)
    assert not vector_kernel.vector_update(weights, 0, sums, 1.0, 1.0, False)
