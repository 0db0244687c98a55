"""Hand-written NumPy backprop with minibatch SGD (seed 002's first network)."""
from edbench.maths.optimizers import SGD
from edbench.methods.backprop import MLP_DEFAULTS, MLPMethod


class BackpropSGD(MLPMethod):
    name = "bp_sgd"
    defaults = {**MLP_DEFAULTS, "lr": 0.1}

    def make_optimizer(self, weights):
        return SGD(weights, self.params["lr"])


METHOD = BackpropSGD
