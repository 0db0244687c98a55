"""Hand-written NumPy backprop with a hand-written Adam (seed 002's second network)."""
from edbench.maths.optimizers import Adam
from edbench.methods.backprop import MLP_DEFAULTS, MLPMethod


class BackpropAdam(MLPMethod):
    name = "bp_adam"
    defaults = {**MLP_DEFAULTS, "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}

    def make_optimizer(self, weights):
        p = self.params
        return Adam(weights, p["lr"], p["beta1"], p["beta2"], p["eps"])


METHOD = BackpropAdam
