"""Deep ED: matrix ED through many narrow hidden layers (seed 004: 512 layers of 2+2 cells).

The hidden layers after the first all have one shape, so they live in one stacked array and
the per-layer work is cut to what cannot be avoided:
- forward, per layer, three NumPy calls on preallocated buffers (a product, a shift, tanh):
  with t = tanh(u/u0) and o = (1+t)/2, the next layer is t' = tanh(t @ A + c), where A and c
  fold the bias cells, the 1/2 and 1/u0 into the weights once per minibatch;
- learning, for the whole stack at once, in one compiled loop (numba), because under ED a
  layer's change needs only its own inputs and outputs and the broadcast error.
The rule and the weight layout are ``ed_matrix``'s; results agree with it to rounding.
"""
from __future__ import annotations

import numba
import numpy as np

from .ed_matrix import EDMatrix


@numba.njit(cache=True)
def _learn_stack(stack, outputs, d_plus, d_minus, error, beta, step, cell_signs, faithful, connected):
    """stack[l] += change of hidden layer l+1, from outputs[l] (its sources) and outputs[l+1]."""
    layers, networks, width, columns = stack.shape
    batch = outputs.shape[2]
    change = np.empty((width, columns))
    g = np.empty(width)
    signal = np.empty(columns)
    for layer in range(layers):
        for k in range(networks):
            change[:] = 0.0
            for b in range(batch):
                for i in range(width):
                    o = outputs[layer + 1, k, b, i]
                    g[i] = o * (1.0 - o) * cell_signs[i]
                if faithful:
                    # source m contributes x_m * s_m * (d+ if m is excitatory else d-)
                    up, down = d_plus[k, b], d_minus[k, b]
                    signal[0] = beta * up
                    signal[1] = -(beta * down)
                    for j in range(width):
                        x = outputs[layer, k, b, j]
                        signal[2 + j] = x * up if j % 2 == 0 else -(x * down)
                else:
                    e = error[k, b]
                    for i in range(width):
                        g[i] *= e
                    signal[0] = beta
                    signal[1] = beta
                    for j in range(width):
                        signal[2 + j] = outputs[layer, k, b, j]
                for i in range(width):
                    for m in range(columns):
                        change[i, m] += g[i] * signal[m]
            for i in range(width):
                for m in range(columns):
                    if connected is None or connected[layer, k, i, m]:
                        stack[layer, k, i, m] += change[i, m] * step


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

    def forward(self, first_sources):
        beta, u0 = self.params["beta"], self.params["u0"]
        first_w, last_w = self.weights[0], self.weights[-1]
        batch = len(first_sources)
        width = self.hidden[0]
        # t carries a column of ones, so one product applies a layer's weights and its shift.
        t = np.empty((len(self.stack) + 1, self.k, batch, width + 1), dtype=self.dtype)
        t[..., width] = 1.0
        u = first_sources @ first_w.reshape(-1, first_w.shape[2]).T
        t[0, :, :, :width] = u.reshape(batch, self.k, -1).transpose(1, 0, 2)
        t[0, :, :, :width] /= u0
        np.tanh(t[0, :, :, :width], out=t[0, :, :, :width])
        cells = self.stack[..., 2:]
        affine = np.empty((len(self.stack), self.k, width + 1, width), dtype=self.dtype)
        affine[:, :, :width, :] = np.swapaxes(cells, -1, -2) * (0.5 / u0)
        affine[:, :, width, :] = ((self.stack[..., 0] + self.stack[..., 1]) * beta + 0.5 * cells.sum(axis=-1)) / u0
        product = np.empty((self.k, batch, width), dtype=self.dtype)
        for layer in range(len(self.stack)):
            np.matmul(t[layer], affine[layer], out=product)
            np.tanh(product, out=t[layer + 1, :, :, :width])
        stacked = t[..., :width]
        stacked *= 0.5
        stacked += 0.5
        last_sources = np.empty((self.k, batch, 2 + stacked.shape[-1]), dtype=self.dtype)
        last_sources[..., :2] = beta
        last_sources[..., 2:] = stacked[-1]
        out = np.tanh(np.matmul(last_sources, last_w.transpose(0, 2, 1)) / u0) * 0.5 + 0.5
        return (first_sources, last_sources), (stacked, out)

    def learn(self, sources, outputs, error):
        first_sources, last_sources = sources
        stacked, out = outputs
        p = self.params
        last = len(self.weights) - 1
        self.weights[0] += self.layer_change(0, first_sources, stacked[0], error)
        if len(self.stack):
            step = p["alpha"] * p["u1"] / error.shape[1]
            _learn_stack(self.stack, stacked, np.maximum(error, 0), np.maximum(-error, 0), error, p["beta"], step,
                         self.cell_signs[1], p["rule"] == "faithful", self.stack_connected)
        self.weights[last] += self.layer_change(last, last_sources, out, error)


METHOD = EDDeep
