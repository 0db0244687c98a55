"""Straightforward implementations that the speed benchmark measures the methods against.

They compute what the methods compute, written the plain way, so a speed-up can be checked
to be the same arithmetic done faster.
"""
from __future__ import annotations

import numpy as np

from edbench.methods.ed import rule as ed


class LayerByLayerED:
    """Matrix ED in the style of seed 004's code: per layer one matrix product forward and one
    update call, each layer an object holding its own (K, cells, columns) weights."""

    class Layer:
        def __init__(self, weights: np.ndarray, cell_signs: np.ndarray, source_signs: np.ndarray, params: dict,
                     hidden: bool):
            self.weight = weights.copy()
            self.cell_signs = cell_signs
            self.source_signs = source_signs
            self.params = params
            self.step = params["alpha"] * (params["u1"] if hidden else 1.0)

        def forward(self, x: np.ndarray) -> np.ndarray:
            self.x = x
            self.y = ed.sigmoid(np.matmul(x, self.weight.transpose(0, 2, 1)), self.params["u0"])
            return self.y

        def update(self, error: np.ndarray) -> None:
            slope = self.y * (1 - self.y) * self.cell_signs
            if self.params["rule"] == "faithful":
                pick = np.where(self.source_signs > 0, np.maximum(error, 0)[..., None],
                                np.maximum(-error, 0)[..., None])
                signal = self.x * self.source_signs * pick
                self.weight += self.step * np.einsum("kbi,kbm->kim", slope, signal) / error.shape[1]
            else:
                self.weight += self.step * np.einsum("kbi,kbm->kim", slope * error[..., None], self.x) / error.shape[1]

    def __init__(self, weights: list[np.ndarray], params: dict):
        n = len(weights)
        self.params = params
        self.layers = [self.Layer(w, ed.cell_signs(i, n, w.shape[1]), ed.layer_source_signs(i, w.shape[2]), params,
                                  i < n - 1) for i, w in enumerate(weights)]

    def train_batch(self, x: np.ndarray, targets: np.ndarray) -> None:
        """x (B, n_inputs); targets (K, B)."""
        beta = self.params["beta"]
        k = targets.shape[0]
        expanded = np.repeat(x, 2, axis=1)
        current = np.concatenate([np.full((len(x), 2), beta), expanded], axis=1)[None].repeat(k, axis=0)
        for layer in self.layers:
            out = layer.forward(current)
            current = np.concatenate([np.full(out.shape[:-1] + (2,), beta), out], axis=-1)
        error = targets - out[..., 0]
        for layer in self.layers:
            layer.update(error)

    def get_weights(self) -> list[np.ndarray]:
        return [layer.weight.copy() for layer in self.layers]
