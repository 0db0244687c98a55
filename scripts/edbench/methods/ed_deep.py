"""Deep ED: matrix ED through many narrow hidden layers (seed 004: 512 layers of 2+2 cells).

The hidden layers after the first all have one shape, so they live in one stacked array, and
the whole stack runs in two compiled loops (numba) instead of a few NumPy calls per layer:
- forward, layer after layer, with the minibatch as the innermost, contiguous axis so the
  products and the sigmoid (through a vectorisable exp, ``edbench.fastmath``) run as SIMD;
- learning, for the whole stack at once, since under ED a layer's change needs only its own
  inputs and outputs and the broadcast error.
The first and the output layer use ``ed_matrix``'s code. The rule and the weight layout are
``ed_matrix``'s; results agree with it to rounding (tests/test_ed.py).
"""
from __future__ import annotations

import numba
import numpy as np

from ..fastmath import exp_into
from .ed_matrix import EDMatrix


@numba.njit(cache=True)
def _forward_stack(stack, outputs, beta, u0):
    """outputs[l + 1, k, i, :] = f(stack[l, k, i] . [beta, beta, outputs[l, k, :, b]]) for every b.

    outputs is (layers + 1, K, width, B); outputs[0] holds the first hidden layer.
    """
    layers, networks, width, _ = stack.shape
    batch = outputs.shape[3]
    u = np.empty(batch)
    e = np.empty(batch)
    scratch = np.empty(batch, dtype=np.int64)
    scale = -2.0 / u0
    for layer in range(layers):
        for k in range(networks):
            for i in range(width):
                w = stack[layer, k, i]
                bias = w[0] * beta + w[1] * beta
                for b in range(batch):
                    u[b] = bias
                for j in range(width):
                    wj = w[2 + j]
                    src = outputs[layer, k, j]
                    for b in range(batch):
                        u[b] += wj * src[b]
                for b in range(batch):
                    u[b] *= scale
                exp_into(u, e, scratch)
                out = outputs[layer + 1, k, i]
                for b in range(batch):
                    out[b] = 1.0 / (1.0 + e[b])


@numba.njit(cache=True, fastmath={"reassoc"})  # lets the sums over the minibatch vectorise
def _learn_stack(stack, outputs, d_plus, d_minus, error, beta, step, cell_signs, faithful, connected):
    """stack[l] += change of hidden layer l + 1, from outputs[l] (its sources) and outputs[l + 1]."""
    layers, networks, width, columns = stack.shape
    batch = outputs.shape[3]
    g = np.empty((width, batch))
    signal = np.empty((columns, batch))
    for layer in range(layers):
        for k in range(networks):
            for i in range(width):
                o = outputs[layer + 1, k, i]
                for b in range(batch):
                    g[i, b] = o[b] * (1.0 - o[b]) * cell_signs[i]
            if faithful:
                # source m contributes x_m * s_m * (d+ if m is excitatory else d-)
                for b in range(batch):
                    signal[0, b] = beta * d_plus[k, b]
                    signal[1, b] = -(beta * d_minus[k, b])
                for j in range(width):
                    x = outputs[layer, k, j]
                    if j % 2 == 0:
                        for b in range(batch):
                            signal[2 + j, b] = x[b] * d_plus[k, b]
                    else:
                        for b in range(batch):
                            signal[2 + j, b] = -(x[b] * d_minus[k, b])
            else:
                for i in range(width):
                    for b in range(batch):
                        g[i, b] *= error[k, b]
                for b in range(batch):
                    signal[0, b] = beta
                    signal[1, b] = beta
                for j in range(width):
                    x = outputs[layer, k, j]
                    for b in range(batch):
                        signal[2 + j, b] = x[b]
            for i in range(width):
                for m in range(columns):
                    if connected is not None and not connected[layer, k, i, m]:
                        continue
                    total = 0.0
                    for b in range(batch):
                        total += g[i, b] * signal[m, b]
                    stack[layer, k, i, m] += total * step


class EDDeep(EDMatrix):
    name = "ed_deep"
    defaults = {key: value for key, value in EDMatrix.defaults.items() if key != "hidden"}
    defaults.update({"depth": 512, "width": 4, "batch_size": 128, "alpha": 0.2})

    @staticmethod
    def hidden_widths(params):
        return [params["width"]] * params["depth"]

    def set_weights(self, weights):
        super().set_weights(weights)
        width = self.hidden[0]
        middle = self.weights[1:-1]
        self.stack = np.stack(middle) if middle else np.zeros((0, self.k, width, 2 + width), dtype=self.dtype)
        # The list entries become views of the stack, so get_weights and the layout stay as ed_matrix's.
        self.weights[1:-1] = list(self.stack)
        masks = self.connected[1:-1]
        self.stack_connected = None if all(m is None for m in masks) else np.stack(
            [np.ones(self.stack.shape[1:], dtype=bool) if m is None else m for m in masks])

    def epoch(self, x, targets, order):
        # Every batch size, 1 included, goes through this class's forward and learn: the hidden
        # weights live in its own stack, not in the flat buffer ed_matrix's online loop reads.
        return self.minibatch_epoch(x, targets, order)

    def forward(self, first_sources):
        beta, u0 = self.params["beta"], self.params["u0"]
        first_w, last_w = self.weights[0], self.weights[-1]
        batch = len(first_sources)
        outputs = np.empty((len(self.stack) + 1, self.k, self.hidden[0], batch), dtype=self.dtype)
        u = first_sources @ first_w.reshape(-1, first_w.shape[2]).T                 # (B, K*width)
        outputs[0] = np.tanh(u.T.reshape(self.k, -1, batch) / u0) * 0.5 + 0.5
        _forward_stack(self.stack, outputs, beta, u0)
        last_sources = np.empty((self.k, batch, 2 + self.hidden[0]), dtype=self.dtype)
        last_sources[..., :2] = beta
        last_sources[..., 2:] = outputs[-1].transpose(0, 2, 1)
        out = np.tanh(np.matmul(last_sources, last_w.transpose(0, 2, 1)) / u0) * 0.5 + 0.5
        return (first_sources, last_sources), (outputs, out)

    def learn(self, sources, outputs, error):
        first_sources, last_sources = sources
        stacked, out = outputs
        p = self.params
        last = len(self.weights) - 1
        self.weights[0] += self.layer_change(0, first_sources, stacked[0].transpose(0, 2, 1), error)
        if len(self.stack):
            step = p["alpha"] * p["u1"] / error.shape[1]
            _learn_stack(self.stack, stacked, np.maximum(error, 0), np.maximum(-error, 0), error, p["beta"], step,
                         self.cell_signs[1], p["rule"] == "faithful", self.stack_connected)
        self.weights[last] += self.layer_change(last, last_sources, out, error)


METHOD = EDDeep
