"""Per-neuron ED: one object per cell and a loop per connection, as in seed 000.

The readable reference for the rule (see ``rule``) and the slow baseline. Online only.
"""
from __future__ import annotations

import numpy as np

from edbench.methods.base import ConfigError
from edbench.methods.ed import rule as ed
from edbench.methods.ed.common import EDMethod


class Cell:
    def __init__(self, sign: float, sources: list[Cell] = (), weights: list[float] = ()):
        self.sign = sign
        self.sources = list(sources)
        self.weights = list(weights)
        self.output = 0.0

    def fire(self, u0: float) -> None:
        total = 0.0
        for source, weight in zip(self.sources, self.weights):
            total += weight * source.output
        self.output = ed.sigmoid_scalar(total, u0)

    def learn(self, step: float, d_plus: float, d_minus: float, error: float, faithful: bool) -> None:
        slope = ed.slope(self.output, self.sign)
        for m, source in enumerate(self.sources):
            if faithful:
                d = d_plus if source.sign > 0 else d_minus
                signal = ed.faithful_signal(source.output, source.sign, d)
                self.weights[m] = ed.learned(self.weights[m], slope, signal, step)
            else:
                self.weights[m] = ed.learned(self.weights[m], slope * error, source.output, step)


class Network:
    """One ED network with a single output cell."""

    def __init__(self, n_inputs: int, weights: list[np.ndarray], beta: float):
        self.biases = [Cell(1.0), Cell(-1.0)]
        for bias in self.biases:
            bias.output = beta
        self.inputs = [Cell(sign) for _ in range(n_inputs) for sign in (1.0, -1.0)]
        self.layers: list[list[Cell]] = []
        sources = self.inputs
        for index, matrix in enumerate(weights):
            last = index == len(weights) - 1
            signs = [1.0] if last else ed.hidden_signs(matrix.shape[0])
            layer = [Cell(float(sign), self.biases + sources, matrix[i].tolist()) for i, sign in enumerate(signs)]
            self.layers.append(layer)
            sources = layer

    @property
    def output(self) -> Cell:
        return self.layers[-1][0]

    def forward(self, x: np.ndarray, u0: float) -> float:
        for i, value in enumerate(x.tolist()):
            self.inputs[2 * i].output = value
            self.inputs[2 * i + 1].output = value
        for layer in self.layers:
            for cell in layer:
                cell.fire(u0)
        return self.output.output

    def train(self, x: np.ndarray, target: float, p: dict) -> float:
        error = target - self.forward(x, p["u0"])
        faithful = p["rule"] == "faithful"
        d_plus, d_minus = max(error, 0.0), max(-error, 0.0)
        for index, layer in enumerate(self.layers):
            # hidden cells receive u1*d; u1 is folded into their step
            step = p["alpha"] if index == len(self.layers) - 1 else p["alpha"] * p["u1"]
            for cell in layer:
                cell.learn(step, d_plus, d_minus, error, faithful)
        return abs(error)

    def matrices(self) -> list[np.ndarray]:
        return [np.array([cell.weights for cell in layer]) for layer in self.layers]


class EDNeuron(EDMethod):
    name = "ed_neuron"
    defaults = {**EDMethod.defaults, "batch_size": 1}

    @classmethod
    def check_params(cls, given):
        params = super().check_params(given)
        if params["batch_size"] != 1:
            # so that a shared search offers it only the online trials of ed_matrix
            raise ConfigError(f"method {cls.name!r}: learns online, one sample at a time (batch_size 1), "
                              f"got batch_size {params['batch_size']!r}")
        return params

    def set_weights(self, weights):
        ed.check_layout(weights, self.n_inputs, self.hidden, self.k)
        self.networks = [Network(self.n_inputs, [w[k] for w in weights], self.params["beta"]) for k in range(self.k)]

    def get_weights(self):
        per_network = [net.matrices() for net in self.networks]
        return [np.stack([layers[i] for layers in per_network]) for i in range(len(per_network[0]))]

    def train_epoch(self, x, y):
        targets = ed.targets(y, self.n_classes)
        totals = [0.0] * self.k  # summed per network, then over networks, as ed_matrix's parallel kernel does
        for row in self.sample_order(len(y)):
            for k, network in enumerate(self.networks):
                totals[k] += network.train(x[row], targets[row, k], self.params)
        return float(np.sum(totals)) / (len(y) * self.k)

    def outputs(self, x):
        return np.array([[net.forward(row, self.params["u0"]) for net in self.networks] for row in x])


METHOD = EDNeuron
