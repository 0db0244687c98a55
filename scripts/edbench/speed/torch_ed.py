"""Error diffusion written in PyTorch, the way its users write it: the speed target's peer for ed_matrix.

The fastest public ED code we know of keeps each layer as a tensor, runs a minibatch (or one
sample) forward with batched products, learns with two more, and compiles the step with
``torch.compile``. This is our own code in that style, computing ed_matrix's rule on ed_matrix's
weight layout (``edbench.ed``): cell and source signs come from there, so a change of convention
reaches both. It is checked against ed_matrix's weights to float tolerance (tests/test_torch_ed.py).
"""
from __future__ import annotations

import numpy as np
import torch

from edbench.methods.ed import rule as ed


class TorchED:
    """K stacked ED networks as torch tensors; ``train_epoch`` runs minibatches of ``batch_size``."""

    def __init__(self, weights: list[np.ndarray], params: dict, dtype: torch.dtype = torch.float32,
                 compile: bool = True):
        self.params = params
        self.dtype = dtype
        self.weights = [torch.tensor(w, dtype=dtype) for w in weights]
        n_layers = len(weights)
        self.cell_signs = [torch.tensor(ed.cell_signs(i, n_layers, w.shape[1]), dtype=dtype)
                           for i, w in enumerate(weights)]
        signs = [ed.layer_source_signs(i, w.shape[2]) for i, w in enumerate(weights)]
        self.source_signs = [torch.tensor(s, dtype=dtype) for s in signs]
        self.excitatory = [torch.tensor(s > 0, dtype=dtype) for s in signs]
        self.connected = [None if np.all(w != 0) else torch.tensor(w != 0, dtype=dtype) for w in weights]
        if compile:
            # Each instance and shape is its own graph; the default limit would fall back to eager.
            torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)
        self._step = torch.compile(self.step, dynamic=False) if compile else self.step

    def expand(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 2 + 2n): bias cells, then each input for its excitatory and inhibitory cell."""
        beta = torch.full((x.shape[0], 2), self.params["beta"], dtype=self.dtype)
        return torch.cat([beta, x.repeat_interleave(2, dim=1)], dim=1)

    def step(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """One update from the minibatch x (B, n) with targets (K, B); returns the summed |error|."""
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
        xs = torch.as_tensor(np.ascontiguousarray(x[order]), dtype=self.dtype)
        ts = torch.as_tensor(np.ascontiguousarray(targets[:, order]), dtype=self.dtype)
        total = 0.0
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                total += float(self._step(xs[start:start + batch_size], ts[:, start:start + batch_size]))
        return total

    def get_weights(self) -> list[np.ndarray]:
        return [w.detach().numpy().astype(np.float64) for w in self.weights]
