"""Every registered method behind the one interface, and the backprop family against PyTorch."""
import numpy as np
import pytest

from edbench import methods, tasks
from edbench.methods.base import ConfigError

BACKPROP = ["fd", "bp_sgd", "bp_adam", "torch"]


def toy_problem(n=64, d=10, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (classes, d))
    y = rng.integers(0, classes, n)
    x = np.clip(centres[y] + rng.normal(0, 0.5, (n, d)), 0, None) / 4
    return x, y


def test_registry_lists_the_methods():
    assert set(BACKPROP) <= set(methods.available())


def test_unknown_method_is_named():
    with pytest.raises(ConfigError, match="unknown method 'nope'.*available"):
        methods.get("nope")


def test_unknown_parameter_is_named():
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['learning_rate'\]"):
        methods.get("bp_sgd")(4, 2, {"learning_rate": 0.1}, 0)


def test_negative_learning_rate_is_rejected():
    with pytest.raises(ConfigError, match="lr must be a positive number"):
        methods.get("bp_adam")(4, 2, {"lr": -0.1}, 0)


@pytest.mark.parametrize("name", BACKPROP)
def test_method_learns_a_separable_problem(name):
    x, y = toy_problem()
    params = {"hidden": [8], "batch_size": 16}
    if name == "fd":
        params["lr"] = 1.0
    method = methods.get(name)(x.shape[1], 3, params, seed=0)
    first = method.train_epoch(x, y)
    for _ in range(30):
        last = method.train_epoch(x, y)
    assert last < first
    assert (method.predict(x) == y).mean() > 0.9


@pytest.mark.parametrize("ours, optimizer, lr", [("bp_adam", "adam", 0.01), ("bp_sgd", "sgd", 0.1)])
def test_numpy_and_torch_follow_the_same_trajectory(ours, optimizer, lr):
    x, y = toy_problem()
    common = {"hidden": [16], "batch_size": 8, "dtype": "float64", "lr": lr}
    numpy_method = methods.get(ours)(x.shape[1], 3, common, seed=5)
    torch_method = methods.get("torch")(x.shape[1], 3, {**common, "optimizer": optimizer}, seed=5)
    for _ in range(5):
        assert numpy_method.train_epoch(x, y) == pytest.approx(torch_method.train_epoch(x, y), rel=1e-10)
    for key, value in numpy_method.state().items():
        np.testing.assert_allclose(value, torch_method.state()[key], rtol=0, atol=1e-10)


def test_fd_trains_like_backprop_sgd():
    x, y = toy_problem(n=32, d=5)
    common = {"hidden": [4], "batch_size": 8, "dtype": "float64", "lr": 0.5, "activation": "sigmoid"}
    fd = methods.get("fd")(5, 3, {**common, "eps": 1e-6, "scheme": "central"}, seed=2)
    bp = methods.get("bp_sgd")(5, 3, common, seed=2)
    for _ in range(3):
        fd.train_epoch(x, y)
        bp.train_epoch(x, y)
    for key, value in bp.state().items():
        np.testing.assert_allclose(fd.state()[key], value, rtol=0, atol=1e-7)


def test_same_seed_same_weights_other_seed_differs():
    x, y = toy_problem()
    def trained(seed):
        method = methods.get("bp_adam")(x.shape[1], 3, {"hidden": [8]}, seed)
        method.train_epoch(x, y)
        return method.state()["p0"]
    np.testing.assert_array_equal(trained(1), trained(1))
    assert not np.array_equal(trained(1), trained(2))


def test_float32_is_the_default_dtype():
    method = methods.get("bp_sgd")(4, 2, {}, 0)
    assert all(a.dtype == np.float32 for a in method.state().values())


def test_gates_are_learned_by_backprop():
    task = tasks.gates_task()
    for problem in task.problems:
        method = methods.get("bp_sgd")(2, 2, {"hidden": [4], "activation": "sigmoid", "batch_size": 4,
                                              "lr": 2.0, "dtype": "float64"}, seed=0)
        for _ in range(1000):
            method.train_epoch(problem.x_train, problem.y_train)
        assert (method.predict(problem.x_test) == problem.y_test).all(), problem.name
