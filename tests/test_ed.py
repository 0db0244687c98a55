"""ED: the rule written out by hand, the three implementations against each other, and the layout."""
import numpy as np
import pytest

from edbench import methods, tasks
from edbench.methods.base import ConfigError
from edbench.methods.ed import rule as ed
from edbench.report import xor_convergence


def data(n=40, d=5, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.integers(0, classes, n)


def max_difference(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a.get_weights(), b.get_weights()))


def bit_identical(a, b) -> bool:
    """Same weights, every bit: the claim for ed_matrix's online kernel against ed_neuron."""
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(wa, wb))


def test_layout_shapes_and_signs():
    weights = ed.initial_weights(3, [4, 2], 5, np.random.default_rng(0))
    assert [w.shape for w in weights] == [(5, 4, 8), (5, 2, 6), (5, 1, 4)]
    # columns: bias+, bias-, x0+, x0-, ...; hidden rows alternate -, + (Kaneko's first hidden cell is
    # inhibitory); later columns: bias+, bias-, then the cells below; the output is +
    expected = np.outer([-1, 1, -1, 1], [1, -1, 1, -1, 1, -1, 1, -1])
    assert np.array_equal(np.sign(weights[0][0]), expected)
    assert np.array_equal(np.sign(weights[1][0]), np.outer([-1, 1], [1, -1, -1, 1, -1, 1]))
    assert np.array_equal(np.sign(weights[2][0, 0]), [1, -1, -1, 1])
    assert all((np.abs(w) < 1).all() for w in weights)


def test_one_update_by_hand():
    """One sample through 1 input -> 2 hidden -> 1 output, the faithful rule computed from the equations."""
    p = {"hidden": [2], "alpha": 0.8, "beta": 0.8, "u0": 0.4, "u1": 0.5, "shuffle": False}
    method = methods.get("ed_matrix")(1, 2, p, seed=0)
    w_hidden, w_out = [w[0].copy() for w in method.get_weights()]
    x, target = 0.3, 1.0
    f = lambda u: 1 / (1 + np.exp(-2 * u / 0.4))                         # noqa: E731
    src_hidden = np.array([0.8, 0.8, x, x])
    s_src_hidden = np.array([1, -1, 1, -1])
    o_hidden = f(w_hidden @ src_hidden)
    src_out = np.array([0.8, 0.8, *o_hidden])
    s_src_out = np.array([1, -1, -1, 1])
    o_out = f(w_out @ src_out)[0]
    e = target - o_out
    d_plus, d_minus = max(e, 0), max(-e, 0)

    def expected(w, src, s_src, o, s_cells, scale):
        new = w.copy()
        for k in range(w.shape[0]):
            for m in range(w.shape[1]):
                d = (d_plus if s_src[m] > 0 else d_minus) * scale
                new[k, m] += 0.8 * src[m] * o[k] * (1 - o[k]) * d * s_src[m] * s_cells[k]
        return new

    method.train_epoch(np.array([[x]]), np.array([1]))
    got_hidden, got_out = [w[0] for w in method.get_weights()]
    np.testing.assert_allclose(got_hidden, expected(w_hidden, src_hidden, s_src_hidden, o_hidden, [-1, 1], 0.5),
                               rtol=0, atol=1e-15)
    np.testing.assert_allclose(got_out, expected(w_out, src_out, s_src_out, [o_out], [1], 1.0), rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_array_sigmoid_is_numpys_tanh_in_the_arrays_type(dtype):
    """The minibatch paths' form: 0.5 + 0.5 * tanh(u / u0) through NumPy's tanh, whatever the
    layout, into a new array or into ``out``."""
    u = np.random.default_rng(0).normal(0, 1, (3, 40, 7)).astype(dtype)
    for view in (u, u.transpose(1, 0, 2)):
        expected = 0.5 + 0.5 * np.tanh(view / 0.4)
        result = ed.sigmoid(view, 0.4)
        assert result.dtype == dtype and np.array_equal(result, expected)
        out = np.empty_like(view)
        assert ed.sigmoid(view, 0.4, out=out) is out and np.array_equal(out, expected)


def test_one_cell_by_the_rule_functions():
    """sigmoid_scalar, slope, faithful_signal and learned are the rule's equations for one cell and weight."""
    o = ed.sigmoid_scalar(0.3, 0.4)
    assert o == pytest.approx(1 / (1 + np.exp(-2 * 0.3 / 0.4)), rel=1e-15)
    assert ed.slope(o, -1.0) == -(o * (1 - o))
    assert ed.faithful_signal(0.5, -1.0, 0.25) == -0.125
    assert ed.learned(0.5, 0.2, -0.125, 0.8) == 0.5 + (0.2 * -0.125) * 0.8
    assert ed.learned(0.0, 0.2, -0.125, 0.8) == 0.0


@pytest.mark.parametrize("classes", [2, 10])
@pytest.mark.parametrize("hidden", [[6], [16, 16, 16, 16, 16, 16, 16, 16, 16, 16]])
def test_matrix_reproduces_neuron_online_faithful(classes, hidden):
    x, y = data(30, 6, classes)
    params = {"hidden": hidden, "alpha": 0.3}
    neuron = methods.get("ed_neuron")(6, classes, params, seed=4)
    matrix = methods.get("ed_matrix")(6, classes, params, seed=4)
    assert bit_identical(neuron, matrix)
    for _ in range(8):
        assert neuron.train_epoch(x, y) == matrix.train_epoch(x, y)
        assert bit_identical(neuron, matrix)
    assert np.array_equal(neuron.predict(x), matrix.predict(x))


def test_matrix_reproduces_neuron_online_bidirectional():
    x, y = data(40, 5, 10)
    params = {"hidden": [6, 4], "rule": "bidirectional"}
    neuron = methods.get("ed_neuron")(5, 10, params, seed=1)
    matrix = methods.get("ed_matrix")(5, 10, params, seed=1)
    assert neuron.train_epoch(x, y) == matrix.train_epoch(x, y)
    assert bit_identical(neuron, matrix)


@pytest.mark.parametrize("rule", ["faithful", "bidirectional"])
@pytest.mark.parametrize("classes, depth, width, batch", [(2, 1, 4, 16), (2, 6, 4, 16), (10, 1, 4, 16), (10, 3, 4, 16),
                                                          (2, 3, 8, 16), (2, 2, 9, 16), (2, 2, 16, 16), (2, 3, 4, 20),
                                                          (2, 3, 8, 20)])
def test_deep_reproduces_matrix_in_minibatches(rule, classes, depth, width, batch):
    """ed_deep's whole-epoch compiled path, odd widths included, and its NumPy path for the last,
    smaller batch (100 samples: six batches of 16 and one of 4) agree with ed_matrix. In batches of
    20 the stack's vector code takes the first 16 samples and its loops the other 4."""
    x, y = data(100, 7, classes)
    deep = methods.get("ed_deep")(7, classes, {"depth": depth, "width": width, "rule": rule, "batch_size": batch}, 3)
    assert deep.whole_network
    matrix = methods.get("ed_matrix")(7, classes, {"hidden": [width] * depth, "rule": rule, "batch_size": batch,
                                                   "alpha": 0.2}, 3)
    for _ in range(3):
        deep.train_epoch(x, y)
        matrix.train_epoch(x, y)
    assert max_difference(deep, matrix) <= 1e-12


@pytest.mark.parametrize("rule", ["faithful", "bidirectional"])
def test_deep_without_folding_still_reproduces_matrix(rule):
    """An absent first-layer connection turns ed_deep's folded first layer off (the folded update
    would move it): the unfolded path must agree with ed_matrix and leave the connection at 0."""
    x, y = data(48, 5, 10)
    deep = methods.get("ed_deep")(5, 10, {"depth": 3, "width": 4, "rule": rule, "batch_size": 16}, 2)
    matrix = methods.get("ed_matrix")(5, 10, {"hidden": [4] * 3, "rule": rule, "batch_size": 16, "alpha": 0.2}, 2)
    for method in (deep, matrix):
        weights = method.get_weights()
        weights[0][3, 1, 4] = 0.0
        method.set_weights(weights)
    assert not deep.folded
    for _ in range(2):
        deep.train_epoch(x, y)
        matrix.train_epoch(x, y)
    assert max_difference(deep, matrix) <= 1e-12
    assert deep.get_weights()[0][3, 1, 4] == 0.0


def test_faithful_magnitudes_only_grow_and_zero_weights_stay_zero():
    x, y = data(50, 4)
    method = methods.get("ed_matrix")(4, 2, {"hidden": [6, 6], "batch_size": 5}, seed=0)
    weights = method.get_weights()
    weights[0][0, 1, 3] = 0.0
    weights[1][0, 2, 0] = 0.0
    method.set_weights(weights)
    before = method.get_weights()
    for _ in range(3):
        method.train_epoch(x, y)
    after = method.get_weights()
    for old, new in zip(before, after):
        assert (np.abs(new) >= np.abs(old)).all()
        assert np.array_equal(np.sign(new), np.sign(old))
    assert after[0][0, 1, 3] == 0.0 and after[1][0, 2, 0] == 0.0


@pytest.mark.parametrize("name", ["ed_neuron", "ed_deep"])
def test_zero_weights_stay_zero_everywhere(name):
    x, y = data(20, 3)
    params = {"hidden": [4]} if name == "ed_neuron" else {"depth": 3, "batch_size": 4}
    method = methods.get(name)(3, 2, params, seed=0)
    weights = method.get_weights()
    weights[1][0, 0, 2] = 0.0
    method.set_weights(weights)
    method.train_epoch(x, y)
    assert method.get_weights()[1][0, 0, 2] == 0.0


def test_bidirectional_rule_can_shrink_weights():
    x, y = data(50, 4)
    method = methods.get("ed_matrix")(4, 2, {"hidden": [6], "rule": "bidirectional"}, seed=0)
    before = method.get_weights()
    method.train_epoch(x, y)
    assert any((np.abs(n) < np.abs(o)).any() for o, n in zip(before, method.get_weights()))


def test_weights_round_trip_across_implementations():
    x, y = data(10, 3)
    source = methods.get("ed_matrix")(3, 10, {"hidden": [4, 4, 4]}, seed=9)
    source.train_epoch(x, y)
    for name in ("ed_neuron", "ed_deep"):
        params = {"hidden": [4, 4, 4]} if name == "ed_neuron" else {"depth": 3}
        target = methods.get(name)(3, 10, params, seed=0)
        target.set_weights(source.get_weights())
        assert max_difference(source, target) == 0.0
        np.testing.assert_allclose(target.outputs(x), source.outputs(x), rtol=0, atol=1e-12)


def test_wrong_layout_is_rejected():
    method = methods.get("ed_matrix")(3, 2, {"hidden": [4]}, seed=0)
    with pytest.raises(ValueError, match="expected"):
        method.set_weights([np.zeros((1, 4, 9)), np.zeros((1, 1, 6))])


def test_ten_classes_use_ten_networks_and_argmax():
    method = methods.get("ed_matrix")(3, 10, {"hidden": [4]}, seed=0)
    assert method.get_weights()[0].shape[0] == 10
    assert np.array_equal(ed.decide(np.eye(10)[[3, 7]], 10), [3, 7])
    assert np.array_equal(ed.decide(np.array([[0.2], [0.7]]), 2), [0, 1])


@pytest.mark.parametrize("name", ["ed_neuron", "ed_matrix", "ed_deep"])
def test_every_ed_method_learns_the_gates(name):
    params = {"hidden": [16]} if name != "ed_deep" else {"depth": 4, "batch_size": 1, "alpha": 0.8}
    for problem in tasks.gates_task().problems:
        method = methods.get(name)(2, 2, params, seed=0)
        for _ in range(200):
            method.train_epoch(problem.x_train, problem.y_train)
        assert (method.predict(problem.x_test) == problem.y_test).all(), problem.name


def test_xor_convergence_is_counted_and_censored():
    assert xor_convergence.epochs_to_converge("ed_matrix", 32, 0, 0.1, 1000) < 50
    assert xor_convergence.epochs_to_converge("ed_matrix", 8, 0, 1e-12, 3) is None
    frame = xor_convergence.table({**xor_convergence.DEFAULTS, "hidden": [8], "seeds": 2, "max_epochs": 2})
    medians = xor_convergence.medians(frame)
    assert medians["median_epochs"].tolist() == [3.0] and medians["converged"].tolist() == [0]


@pytest.mark.parametrize("params, message", [
    ({"rule": "both"}, r"rule must be one of \['faithful', 'bidirectional'\]"),
    ({"hidden": []}, "hidden layers must be a non-empty list"),
    ({"u0": 0}, "u0 must be a positive number"),
    ({"alpha": -1}, "alpha must be a positive number"),
])
def test_bad_ed_parameters(params, message):
    with pytest.raises(ConfigError, match=message):
        methods.get("ed_matrix").check_params(params)


def test_deep_depth_must_be_positive():
    with pytest.raises(ConfigError, match="hidden layers"):
        methods.get("ed_deep").check_params({"depth": 0})


def test_deep_overrides_behaviour_not_flags_of_matrix():
    """ed_deep changes ed_matrix by overriding methods, never by a class flag that switches a path off."""
    deep, matrix = methods.get("ed_deep"), methods.get("ed_matrix")
    assert issubclass(deep, matrix)
    flags = [name for name, value in vars(deep).items() if isinstance(value, bool)]
    assert not flags, f"ed_deep sets flags {flags}"
    assert deep.epoch is not matrix.epoch


def test_deep_online_trains_like_matrix_online():
    """With batch_size 1 ed_deep takes its own path and still matches ed_matrix's compiled online loop."""
    x, y = data(30, 5, 2)
    deep = methods.get("ed_deep")(5, 2, {"depth": 3, "width": 4, "batch_size": 1, "alpha": 0.8}, 2)
    matrix = methods.get("ed_matrix")(5, 2, {"hidden": [4] * 3, "batch_size": 1, "alpha": 0.8}, 2)
    for _ in range(3):
        assert deep.train_epoch(x, y) == pytest.approx(matrix.train_epoch(x, y), abs=1e-12)
    assert max_difference(deep, matrix) <= 1e-12


def dense_epoch(method, x, y) -> float:
    """One epoch of ``method`` (unshuffled) through the NumPy minibatch path: every input, zero or not,
    in batched products (ed_deep's path, and the dense baseline of ed_matrix's compiled kernel)."""
    assert not method.params["shuffle"]
    targets = ed.targets(y, method.n_classes).T.astype(method.dtype)
    return method.minibatch_epoch(x, targets, np.arange(len(y))) / (len(y) * method.k)


@pytest.mark.parametrize("rule", ["faithful", "bidirectional"])
@pytest.mark.parametrize("classes", [2, 10])
def test_folded_first_layer_agrees_with_the_product_over_both_columns(rule, classes):
    """The NumPy minibatch path folds the first layer's +/- column pairs (forward and update); the
    same run through the unfolded products must give the same weights up to rounding."""
    x, y = data(96, 7, classes)
    params = {"hidden": [5, 3], "rule": rule, "batch_size": 16, "alpha": 0.5, "shuffle": False}
    folded = methods.get("ed_matrix")(7, classes, params, 6)
    plain = methods.get("ed_matrix")(7, classes, params, 6)
    assert folded.paired_inputs
    plain.paired_inputs = False
    start = folded.get_weights()
    for _ in range(3):
        assert dense_epoch(folded, x, y) == pytest.approx(dense_epoch(plain, x, y), rel=1e-12)
    for a, b, old in zip(folded.get_weights(), plain.get_weights(), start):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        assert not np.array_equal(a, old)
    np.testing.assert_allclose(folded.outputs(x), plain.outputs(x), rtol=1e-12)


def sparse_inputs(n, d, classes, seed=0):
    """Inputs mostly exactly zero, as MNIST's are, so that skipping zeros is exercised."""
    x, y = data(n, d, classes, seed)
    return x * (np.random.default_rng(seed + 1).random(x.shape) < 0.3), y


@pytest.mark.parametrize("rule", ["faithful", "bidirectional"])
@pytest.mark.parametrize("classes, hidden, batch", [(2, [16, 16], 16), (10, [5], 8), (10, [64], 32), (2, [3], 7)])
def test_compiled_minibatches_agree_with_the_numpy_path(rule, classes, hidden, batch):
    """ed_matrix's minibatches run in the compiled loop over non-zero inputs; the NumPy path over
    every input must reach the same weights up to rounding, last short batch and absent
    connections included, and the two must report the same error."""
    x, y = sparse_inputs(100, 12, classes)
    params = {"hidden": hidden, "rule": rule, "batch_size": batch, "alpha": 0.5, "shuffle": False}
    compiled = methods.get("ed_matrix")(12, classes, params, 4)
    dense = methods.get("ed_matrix")(12, classes, params, 4)
    for method in (compiled, dense):
        weights = method.get_weights()
        weights[0][0, 2, 5] = 0.0
        weights[-1][0, 0, 3] = 0.0
        method.set_weights(weights)
    start = compiled.get_weights()
    for _ in range(3):
        assert compiled.train_epoch(x, y) == pytest.approx(dense_epoch(dense, x, y), rel=1e-12)
    for a, b, old in zip(compiled.get_weights(), dense.get_weights(), start):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
        assert not np.array_equal(a, old)
    assert compiled.get_weights()[0][0, 2, 5] == 0.0 and compiled.get_weights()[-1][0, 0, 3] == 0.0


def test_compiled_minibatches_run_in_float32_and_stay_close_to_the_numpy_path():
    """In float32 the compiled loop computes in float32 (no float64 step slips in) and two batches
    stay within float32 rounding of the NumPy path (further on, float32 ED drifts apart either way)."""
    x, y = sparse_inputs(32, 12, 10)
    params = {"hidden": [8], "batch_size": 16, "alpha": 0.5, "shuffle": False, "dtype": "float32"}
    compiled = methods.get("ed_matrix")(12, 10, params, 2)
    dense = methods.get("ed_matrix")(12, 10, params, 2)
    assert compiled.flat_layers.flat.dtype == np.float32
    compiled.train_epoch(x, y)
    dense_epoch(dense, x, y)
    for a, b in zip(compiled.get_weights(), dense.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_minibatch_learns_from_the_weights_before_it():
    """Within a minibatch every sample runs forward on the same weights: a batch of two identical
    samples moves the weights exactly as one of them does online (the step divides by 2, the change
    is added twice)."""
    x, y = sparse_inputs(1, 12, 2)
    twice = methods.get("ed_matrix")(12, 2, {"hidden": [4], "batch_size": 2, "shuffle": False}, 0)
    once = methods.get("ed_matrix")(12, 2, {"hidden": [4], "batch_size": 1, "shuffle": False}, 0)
    twice.train_epoch(np.repeat(x, 2, axis=0), np.repeat(y, 2))
    once.train_epoch(x, y)
    assert max_difference(twice, once) <= 1e-15


def test_deep_epoch_keeps_blas_on_one_thread(monkeypatch):
    """ed_deep spreads networks over numba's threads; BLAS threads waiting between its calls took
    those cores, so its epochs run BLAS on one thread whatever the job's limit."""
    from threadpoolctl import threadpool_info, threadpool_limits

    deep = methods.get("ed_deep")(5, 10, {"depth": 2, "batch_size": 8}, 0)
    seen, calls = [], []

    def spy(original):
        def run(*args):
            calls.append(original.__name__)
            seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
            return original(*args)
        return run

    for path in ("minibatch_epoch", "compiled_epoch"):
        monkeypatch.setattr(deep, path, spy(getattr(deep, path)))
    x, y = data(20, 5, 10)   # two whole batches of 8 (compiled) and a last batch of 4 (NumPy)
    with threadpool_limits(2, user_api="blas"):
        deep.train_epoch(x, y)
        assert all(i["num_threads"] == 2 for i in threadpool_info() if i["user_api"] == "blas")
    assert sorted(calls) == ["compiled_epoch", "minibatch_epoch"] and set(seen) == {1}
