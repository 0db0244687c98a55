"""Training with finite-difference gradients and SGD (seed 001), step-aware by default."""
from __future__ import annotations

from .. import finite_diff
from ..optimizers import SGD
from ._backprop import MLPMethod
from .base import ConfigError


class FiniteDifference(MLPMethod):
    name = "fd"
    defaults = {"hidden": [16], "activation": "sigmoid", "batch_size": 32, "dtype": "float64", "lr": 0.5,
                "eps": 1e-4, "scheme": "forward", "step_aware": True}

    def __init__(self, n_inputs, n_classes, params, seed):
        super().__init__(n_inputs, n_classes, params, seed)
        if self.params["scheme"] not in finite_diff.SCHEMES:
            raise ConfigError(f"method 'fd': scheme must be one of {finite_diff.SCHEMES}, got {self.params['scheme']!r}")
        if self.params["step_aware"] and len(self.params["hidden"]) != 1:
            raise ConfigError("method 'fd': step_aware needs exactly one hidden layer (hidden: [N])")

    def make_optimizer(self, weights):
        return SGD(weights, self.params["lr"])

    def gradient(self, x, y):
        p = self.params
        compute = finite_diff.step_aware_gradient if p["step_aware"] else finite_diff.naive_gradient
        grads = compute(self.weights, x, y, p["activation"], p["eps"], p["scheme"])
        return grads, finite_diff.mlp.loss(self.weights, x, y, p["activation"])


METHOD = FiniteDifference
