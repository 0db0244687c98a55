"""A fully connected network with softmax cross-entropy, written out by hand.

Parameters are a flat list ``[W1, b1, W2, b2, ...]`` with ``W`` of shape (fan_in, fan_out), so a
layer is ``x @ W + b``. Hidden layers use ReLU or the logistic sigmoid; the output is softmax.
"""
from __future__ import annotations

import numpy as np

ACTIVATIONS = ("relu", "sigmoid")


def layer_sizes(n_inputs: int, hidden: list[int], n_classes: int) -> list[int]:
    return [n_inputs, *hidden, n_classes]


def xavier_init(sizes: list[int], rng: np.random.Generator, dtype=np.float64) -> list[np.ndarray]:
    """Glorot-uniform weights and zero biases, drawn in float64 so every dtype starts alike."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params.append(rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(dtype))
        params.append(np.zeros(fan_out, dtype=dtype))
    return params


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow
    raise ValueError(f"unknown activation {activation!r}; known: {ACTIVATIONS}")


def activation_grad(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    return a * (1 - a)


def forward(params: list[np.ndarray], x: np.ndarray, activation: str):
    """Return the logits and the per-layer (pre-activation, activation) cache."""
    cache = []
    a = x
    n_layers = len(params) // 2
    for layer in range(n_layers):
        z = a @ params[2 * layer] + params[2 * layer + 1]
        if layer == n_layers - 1:
            cache.append((a, z, None))
            return z, cache
        nxt = activate(z, activation)
        cache.append((a, z, nxt))
        a = nxt
    raise ValueError("a network needs at least one layer")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean softmax cross-entropy over the batch."""
    return float(-log_softmax(logits)[np.arange(len(y)), y].mean())


def loss(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, activation: str) -> float:
    return cross_entropy(forward(params, x, activation)[0], y)


def backward(params: list[np.ndarray], cache, logits: np.ndarray, y: np.ndarray, activation: str):
    """Gradients of the mean cross-entropy, in the order of ``params``; also returns the loss."""
    logp = log_softmax(logits)
    batch = len(y)
    rows = np.arange(batch)
    batch_loss = float(-logp[rows, y].mean())
    delta = np.exp(logp)
    delta[rows, y] -= 1
    delta /= batch
    grads = [None] * len(params)
    for layer in range(len(params) // 2 - 1, -1, -1):
        a_in, _, _ = cache[layer]
        grads[2 * layer] = a_in.T @ delta
        grads[2 * layer + 1] = delta.sum(axis=0)
        if layer:
            _, z_prev, a_prev = cache[layer - 1]
            delta = (delta @ params[2 * layer].T) * activation_grad(z_prev, a_prev, activation)
    return grads, batch_loss


def predict(params: list[np.ndarray], x: np.ndarray, activation: str) -> np.ndarray:
    return forward(params, x, activation)[0].argmax(axis=1)
