"""The implementations the speed benchmark measures the methods against that are not methods
themselves, and the runners they build.

``LayerByLayerED`` is ED written the plain way, in the style of seed 004's code: it computes what
ed_deep computes, so a speed-up can be checked to be the same arithmetic done faster.

``TorchED`` is error diffusion written in PyTorch, the way its users write it: the peer of
ed_matrix. The fastest public ED code we know of keeps each layer as a tensor, runs a minibatch (or
one sample) forward with batched products, learns with two more, and compiles the step with
``torch.compile``. This is our own code in that style, computing ed_matrix's rule on ed_matrix's
weight layout (``edbench.methods.ed.rule``): cell and source signs come from there, so a change of
convention reaches both. It is checked against ed_matrix's weights to float tolerance
(tests/test_torch_ed.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edbench import methods
from edbench import threads as thread_settings
from edbench.methods.ed import rule as ed
from edbench.speed.comparison import Runner

if TYPE_CHECKING:
    import torch  # imported at run time through edbench.threads, which holds it to the job's threads


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


class TorchED:
    """K stacked ED networks as torch tensors; ``train_epoch`` runs minibatches of ``batch_size``."""

    def __init__(self, weights: list[np.ndarray], params: dict, dtype: str = "float32", compile: bool = True):
        torch = thread_settings.torch()
        self.torch = torch
        self.params = params
        self.dtype = getattr(torch, dtype)
        self.weights = [torch.tensor(w, dtype=self.dtype) for w in weights]
        n_layers = len(weights)
        self.cell_signs = [torch.tensor(ed.cell_signs(i, n_layers, w.shape[1]), dtype=self.dtype)
                           for i, w in enumerate(weights)]
        signs = [ed.layer_source_signs(i, w.shape[2]) for i, w in enumerate(weights)]
        self.source_signs = [torch.tensor(s, dtype=self.dtype) for s in signs]
        self.excitatory = [torch.tensor(s > 0, dtype=self.dtype) for s in signs]
        self.connected = [None if np.all(w != 0) else torch.tensor(w != 0, dtype=self.dtype) for w in weights]
        if compile:
            # Each instance and shape is its own graph; the default limit would fall back to eager.
            torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)
        self._step = torch.compile(self.step, dynamic=False) if compile else self.step

    def expand(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 2 + 2n): bias cells, then each input for its excitatory and inhibitory cell."""
        torch = self.torch
        beta = torch.full((x.shape[0], 2), self.params["beta"], dtype=self.dtype)
        return torch.cat([beta, x.repeat_interleave(2, dim=1)], dim=1)

    def step(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """One update from the minibatch x (B, n) with targets (K, B); returns the summed |error|."""
        torch = self.torch
        p = self.params
        k = target.shape[0]
        source = self.expand(x).expand(k, -1, -1)                                    # (K, B, columns)
        sources, outputs = [], []
        for w in self.weights:
            sources.append(source)
            o = torch.sigmoid(torch.bmm(source, w.transpose(1, 2)) * (2.0 / p["u0"]))  # (K, B, cells)
            outputs.append(o)
            beta = torch.full((k, o.shape[1], 2), p["beta"], dtype=self.dtype)
            source = torch.cat([beta, o], dim=2)
        error = target - outputs[-1][:, :, 0]                                         # (K, B)
        batch = error.shape[1]
        last = len(self.weights) - 1
        for index, (w, src, o) in enumerate(zip(self.weights, sources, outputs)):
            step = p["alpha"] / batch if index == last else p["alpha"] * p["u1"] / batch
            slope = o * (1 - o) * self.cell_signs[index]
            if p["rule"] == "faithful":
                up = (slope * error.clamp(min=0)[:, :, None]).transpose(1, 2)
                down = (slope * (-error).clamp(min=0)[:, :, None]).transpose(1, 2)
                signed = src * self.source_signs[index]
                exc = self.excitatory[index]
                change = torch.bmm(up, signed * exc) + torch.bmm(down, signed * (1 - exc))
            else:
                change = torch.bmm((slope * error[:, :, None]).transpose(1, 2), src)
            if self.connected[index] is not None:
                change = change * self.connected[index]
            w.add_(change, alpha=step)
        return error.abs().sum()

    def train_epoch(self, x: np.ndarray, targets: np.ndarray, order: np.ndarray, batch_size: int) -> float:
        """x (n, inputs), targets (K, n), in ``order``; the last partial minibatch is trained too."""
        torch = self.torch
        xs = torch.as_tensor(np.ascontiguousarray(x[order]), dtype=self.dtype)
        ts = torch.as_tensor(np.ascontiguousarray(targets[:, order]), dtype=self.dtype)
        total = 0.0
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                total += float(self._step(xs[start:start + batch_size], ts[:, start:start + batch_size]))
        return total

    def get_weights(self) -> list[np.ndarray]:
        return [w.detach().numpy().astype(np.float64) for w in self.weights]


def layer_by_layer_ed(params: dict, x: np.ndarray, y: np.ndarray, batch: int):
    """``LayerByLayerED`` from the initial weights ed_deep draws for ``seed``, over the first
    ``amount`` samples in batches of ``batch`` per run."""
    def build(seed, amount):
        deep = methods.get("ed_deep")(x.shape[1], 2, params, seed=seed)
        plain = LayerByLayerED(deep.get_weights(), deep.params)
        targets = ed.targets(y, 2).T

        def run():
            for start in range(0, amount, batch):
                plain.train_batch(x[start:start + batch], targets[:, start:start + batch])
        return Runner(run, plain.get_weights)
    return build


def torch_ed_trainer(params: dict, x: np.ndarray, y: np.ndarray, n_classes: int, compile: bool):
    """``TorchED`` from the initial weights ed_matrix draws for ``seed``: one epoch over the first
    ``amount`` samples, in order, per run."""
    def build(seed, amount):
        reference = methods.get("ed_matrix")(x.shape[1], n_classes, params, seed=seed)
        peer = TorchED(reference.get_weights(), reference.params, reference.params["dtype"], compile=compile)
        targets = ed.targets(y[:amount], n_classes).T
        order = np.arange(amount)
        return Runner(lambda: peer.train_epoch(x[:amount], targets, order, params["batch_size"]), peer.get_weights)
    return build
