"""Training with finite-difference gradients and SGD (seed 001), step-aware by default."""
from __future__ import annotations

import numpy as np

from edbench.maths import finite_diff
from edbench.maths.optimizers import SGD
from edbench.methods.backprop import MLPMethod
from edbench.methods.base import ConfigError, check_choice


class FiniteDifference(MLPMethod):
    name = "fd"
    defaults = {"hidden": [16], "activation": "sigmoid", "batch_size": 32, "dtype": "float64", "lr": 0.5,
                "eps": 1e-4, "scheme": "forward", "step_aware": True}

    @classmethod
    def check_params(cls, given):
        params = super().check_params(given)
        check_choice(cls.name, params, "scheme", finite_diff.SCHEMES)
        if params["dtype"] != "float64":
            raise ConfigError("method 'fd': dtype must be 'float64' (finite differences need the precision)")
        if params["step_aware"] and len(params["hidden"]) != 1:
            raise ConfigError("method 'fd': step_aware needs exactly one hidden layer (hidden: [N])")
        return params

    def make_optimizer(self, weights):
        # the compiled gradient reads and writes one flat buffer; the weights become views of it
        shapes = [w.shape for w in weights]
        self.flat = np.concatenate([w.ravel() for w in weights]).astype(np.float64)
        self.flat_grad = np.empty_like(self.flat)
        self.weights = finite_diff.unflatten(self.flat, shapes)
        self.grads = finite_diff.unflatten(self.flat_grad, shapes)
        return SGD(self.weights, self.params["lr"])

    def gradient(self, x, y):
        p = self.params
        if p["step_aware"]:
            loss = finite_diff.step_aware_flat(self.flat, self.weights[0].shape, self.n_classes, x, y,
                                               p["activation"], p["eps"], p["scheme"], self.flat_grad)
            if loss is not None:
                return self.grads, loss
            grads = finite_diff.step_aware_gradient(self.weights, x, y, p["activation"], p["eps"], p["scheme"],
                                                    compiled=False)
        else:
            grads = finite_diff.naive_gradient(self.weights, x, y, p["activation"], p["eps"], p["scheme"])
        return grads, finite_diff.mlp.loss(self.weights, x, y, p["activation"])

    def work_per_sample(self, x):
        """Not backprop's count: finite differences' work is counted per gradient, by scheme and
        step-awareness, in ``edbench.speed.catalog.fd_arithmetic``."""
        raise NotImplementedError("method 'fd' states its work per gradient (edbench.speed.catalog.fd_arithmetic)")


METHOD = FiniteDifference
