"""The hand-written maths against PyTorch autograd, and finite differences against both."""
import numpy as np
import pytest
import torch

from edbench.maths import finite_diff, mlp


def relative_error(a, b):
    return max(np.linalg.norm(x - y) / np.linalg.norm(y) for x, y in zip(a, b))


def small_problem(activation, seed=0):
    rng = np.random.default_rng(seed)
    params = mlp.xavier_init([7, 5, 3], rng, np.float64)
    params[1] += rng.normal(0, 0.1, 5)   # nonzero biases so bias gradients are exercised
    params[3] += rng.normal(0, 0.1, 3)
    x = rng.random((6, 7))
    y = rng.integers(0, 3, 6)
    return params, x, y


def autograd(params, x, y, activation):
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    z = torch.tensor(x) @ tensors[0] + tensors[1]
    h = torch.relu(z) if activation == "relu" else torch.sigmoid(z)
    loss = torch.nn.functional.cross_entropy(h @ tensors[2] + tensors[3], torch.tensor(y))
    loss.backward()
    return [t.grad.numpy() for t in tensors], loss.item()


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_backprop_matches_autograd(activation):
    params, x, y = small_problem(activation)
    logits, cache = mlp.forward(params, x, activation)
    grads, loss = mlp.backward(params, cache, logits, y, activation)
    reference, reference_loss = autograd(params, x, y, activation)
    assert loss == pytest.approx(reference_loss, rel=1e-12)
    assert relative_error(grads, reference) < 1e-12


VARIANTS = {
    "naive": finite_diff.naive_gradient,
    "step_aware_compiled": finite_diff.step_aware_gradient,
    "step_aware_numpy": lambda *a: finite_diff.step_aware_gradient(*a, compiled=False),
}


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_central_differences_match_autograd(activation, variant):
    params, x, y = small_problem(activation)
    grads = VARIANTS[variant](params, x, y, activation, 1e-6, "central")
    reference, _ = autograd(params, x, y, activation)
    assert relative_error(grads, reference) < 1e-6


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_forward_differences_are_first_order(activation):
    params, x, y = small_problem(activation)
    reference, _ = autograd(params, x, y, activation)
    coarse = relative_error(finite_diff.step_aware_gradient(params, x, y, activation, 1e-4, "forward"), reference)
    fine = relative_error(finite_diff.step_aware_gradient(params, x, y, activation, 1e-6, "forward"), reference)
    assert fine < 1e-5
    assert fine < coarse / 10   # the error shrinks with the step: O(eps)


@pytest.mark.parametrize("scheme", ["forward", "central"])
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("compiled", [True, False])
def test_step_aware_equals_naive(scheme, activation, compiled):
    params, x, y = small_problem(activation, seed=3)
    x[x < 0.4] = 0.0   # zero inputs take the kernel's skip path, as MNIST's background does
    naive = finite_diff.naive_gradient([p.copy() for p in params], x, y, activation, 1e-4, scheme)
    step_aware = finite_diff.step_aware_gradient(params, x, y, activation, 1e-4, scheme, compiled=compiled)
    assert relative_error(step_aware, naive) < 1e-9


def test_large_steps_fall_back_to_the_exact_path():
    params, x, y = small_problem("sigmoid")
    assert finite_diff.step_aware_flat(np.concatenate([p.ravel() for p in params]), params[0].shape, 3, x, y,
                                       "sigmoid", 0.5, "forward", np.empty(58)) is None
    naive = finite_diff.naive_gradient([p.copy() for p in params], x, y, "sigmoid", 0.5, "forward")
    assert relative_error(finite_diff.step_aware_gradient(params, x, y, "sigmoid", 0.5, "forward"), naive) < 1e-9


def test_naive_gradient_restores_parameters():
    params, x, y = small_problem("relu")
    before = [p.copy() for p in params]
    finite_diff.naive_gradient(params, x, y, "relu", 1e-4, "central")
    assert all(np.array_equal(a, b) for a, b in zip(params, before))


def test_step_aware_rejects_deep_networks():
    rng = np.random.default_rng(0)
    params = mlp.xavier_init([3, 4, 4, 2], rng)
    with pytest.raises(ValueError, match="one hidden layer"):
        finite_diff.step_aware_gradient(params, rng.random((2, 3)), np.array([0, 1]), "relu", 1e-4)


def test_writable_and_read_only_inputs_share_one_compiled_kernel():
    """A run's job hands the fd method writable inputs and the speed table's rows read-only ones:
    numba would compile the kernel once for each (seconds apiece) unless both reach it as one kind."""
    from edbench.maths import finite_diff_kernel

    params, x, y = small_problem("relu", seed=4)
    frozen = x.copy()
    frozen.flags.writeable = False
    for inputs in (x, frozen):
        finite_diff.step_aware_gradient(params, inputs, y, "relu", 1e-4, "forward")
    assert len(finite_diff_kernel.gradient.signatures) == 1
