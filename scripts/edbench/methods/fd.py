"""Training with finite-difference gradients and SGD (seed 001), step-aware by default."""
from __future__ import annotations

from .. import finite_diff
from ..optimizers import SGD
from ._backprop import MLPMethod
from .base import ConfigError, check_choice


class FiniteDifference(MLPMethod):
    name = "fd"
    defaults = {"hidden": [16], "activation": "sigmoid", "batch_size": 32, "dtype": "float64", "lr": 0.5,
                "eps": 1e-4, "scheme": "forward", "step_aware": True}

    @classmethod
    def check_params(cls, given):
        params = super().check_params(given)
        check_choice(cls.name, params, "scheme", finite_diff.SCHEMES)
        if params["step_aware"] and len(params["hidden"]) != 1:
            raise ConfigError("method 'fd': step_aware needs exactly one hidden layer (hidden: [N])")
        return params

    def make_optimizer(self, weights):
        return SGD(weights, self.params["lr"])

    def gradient(self, x, y):
        p = self.params
        compute = finite_diff.step_aware_gradient if p["step_aware"] else finite_diff.naive_gradient
        grads = compute(self.weights, x, y, p["activation"], p["eps"], p["scheme"])
        return grads, finite_diff.mlp.loss(self.weights, x, y, p["activation"])


METHOD = FiniteDifference
