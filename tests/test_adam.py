"""The hand-written Adam against torch.optim.Adam."""
import numpy as np
import pytest
import torch

from edbench.maths.optimizers import SGD, Adam


def run_both(steps, lr=0.01, betas=(0.9, 0.999), eps=1e-8):
    rng = np.random.default_rng(1)
    params = [rng.normal(size=(4, 3)), rng.normal(size=3)]
    grads_seq = [[rng.normal(size=(4, 3)), rng.normal(size=3)] for _ in range(steps)]
    ours = [p.copy() for p in params]
    adam = Adam(ours, lr, *betas, eps)
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    reference = torch.optim.Adam(theirs, lr=lr, betas=betas, eps=eps)
    for grads in grads_seq:
        adam.step(grads)
        for t, g in zip(theirs, grads):
            t.grad = torch.tensor(g)
        reference.step()
    return params, ours, [t.detach().numpy() for t in theirs]


def test_one_adam_step_equals_torch():
    _, ours, theirs = run_both(1)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


def test_many_adam_steps_equal_torch():
    _, ours, theirs = run_both(50, lr=0.05, betas=(0.8, 0.99))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)


def test_first_step_moves_each_weight_by_lr():
    # With the 1 - beta**t correction the first step is lr * g/|g| (up to eps); seed 003's 1 - beta is not.
    start, ours, _ = run_both(1, lr=0.01)
    np.testing.assert_allclose(np.abs(ours[0] - start[0]), 0.01, rtol=1e-5)


def test_sgd_step():
    p = [np.array([1.0, 2.0])]
    SGD(p, 0.5).step([np.array([2.0, -2.0])])
    np.testing.assert_array_equal(p[0], [0.0, 3.0])


@pytest.mark.parametrize("path", ["default", "foreach", "fused"])
@pytest.mark.parametrize("ours, optimizer, lr", [("bp_adam", "adam", 0.01), ("bp_sgd", "sgd", 0.1)])
def test_every_torch_optimizer_path_follows_our_trajectory(ours, optimizer, lr, path):
    """The speed table races PyTorch's fastest path only because it computes what ours computes."""
    from edbench import methods

    rng = np.random.default_rng(3)
    x, y = rng.random((64, 10)), rng.integers(0, 3, 64)
    common = {"hidden": [16], "batch_size": 8, "dtype": "float64", "lr": lr}
    numpy_method = methods.get(ours)(10, 3, common, seed=5)
    torch_method = methods.get("torch")(10, 3, {**common, "optimizer": optimizer, "optimizer_path": path}, seed=5)
    for _ in range(5):
        assert numpy_method.train_epoch(x, y) == pytest.approx(torch_method.train_epoch(x, y), rel=1e-10)
    for key, value in numpy_method.state().items():
        np.testing.assert_allclose(value, torch_method.state()[key], rtol=0, atol=1e-10)
    assert path == "default" or torch_method.optimizer.defaults[path] is True


def test_an_unknown_optimizer_path_is_refused():
    from edbench import methods
    from edbench.methods.base import ConfigError

    with pytest.raises(ConfigError, match="optimizer_path"):
        methods.get("torch")(10, 3, {"optimizer_path": "compiled"}, seed=0)
