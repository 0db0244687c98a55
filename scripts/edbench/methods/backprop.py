"""Shared trainer for the hand-written MLP methods: minibatches, a gradient, an optimizer step."""
from __future__ import annotations

import itertools

import numpy as np

from edbench.maths import mlp
from edbench.methods.base import ConfigError, LearningMethod, Work, check_choice, minibatches

MLP_DEFAULTS = {"hidden": [128], "activation": "relu", "batch_size": 32, "dtype": "float32"}


def check_mlp_params(method: str, params: dict) -> dict:
    check_choice(method, params, "activation", mlp.ACTIVATIONS)
    hidden = params["hidden"]
    if not (isinstance(hidden, list) and hidden and all(isinstance(h, int) and h >= 1 for h in hidden)):
        raise ConfigError(f"method {method!r}: hidden must be a non-empty list of positive integers, got {hidden!r}")
    return params


def backprop_work(sizes: list[int]) -> Work:
    """Flops per sample of one backprop step of a ``sizes`` network: 2 per weight forward, 2 per
    weight for its gradient, and 2 per weight after the first layer to carry the error back (no
    layer needs the input's gradient). Biases and the optimizer's per-batch update are left out: a
    least count, whatever implements the step (ours or PyTorch's)."""
    weights = [a * b for a, b in itertools.pairwise(sizes)]
    return Work(arithmetic=4 * sum(weights) + 2 * sum(weights[1:]))


class MLPMethod(LearningMethod):
    def __init__(self, n_inputs, n_classes, params, seed):
        super().__init__(n_inputs, n_classes, params, seed)
        self.sizes = mlp.layer_sizes(n_inputs, list(self.params["hidden"]), n_classes)
        self.weights = mlp.xavier_init(self.sizes, self.init_rng, self.dtype)
        self.optimizer = self.make_optimizer(self.weights)

    @classmethod
    def check_params(cls, given):
        return check_mlp_params(cls.name, super().check_params(given))

    def make_optimizer(self, weights):
        raise NotImplementedError

    def gradient(self, x: np.ndarray, y: np.ndarray):
        logits, cache = mlp.forward(self.weights, x, self.params["activation"])
        return mlp.backward(self.weights, cache, logits, y, self.params["activation"])

    def train_epoch(self, x, y):
        x = x.astype(self.dtype, copy=False)
        total, count = 0.0, 0
        for batch in minibatches(len(y), self.params["batch_size"], self.order_rng):
            grads, batch_loss = self.gradient(x[batch], y[batch])
            self.optimizer.step(grads)
            total += batch_loss * len(batch)
            count += len(batch)
        return total / count

    def work_per_sample(self, x):
        return backprop_work(self.sizes)

    # Arrays a training step holds per weight: the weight, its gradient and the optimizer's state.
    copies_per_weight = 4

    @classmethod
    def estimated_bytes(cls, n_inputs, n_classes, params):
        params = cls.check_params(params)
        sizes = mlp.layer_sizes(n_inputs, list(params["hidden"]), n_classes)
        weights = sum(a * b + b for a, b in itertools.pairwise(sizes))
        activations = params["batch_size"] * sum(sizes) * 3
        return int(np.dtype(params["dtype"]).itemsize * (cls.copies_per_weight * weights + activations))

    def predict(self, x):
        return mlp.predict(self.weights, x.astype(self.dtype, copy=False), self.params["activation"])

    def state(self):
        return {f"p{i}": p for i, p in enumerate(self.weights)}
