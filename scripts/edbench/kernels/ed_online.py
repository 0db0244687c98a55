"""Kaneko's online ED step for a whole epoch, compiled with numba.

The layers of all K networks live in one flat float64 buffer (``offsets[l]`` is where layer l
starts; it holds K x cells[l] x columns[l] values, the layout of ``edbench.ed``). Every sum runs
over the columns in order and every product is grouped as in ``ed_neuron``'s Python, and
``math.tanh`` is the C library's in both, so the two agree bit for bit; only the speed differs.
The signs of cells and columns come in as tables (``edbench.ed.sign_tables``), so the kernel
holds no convention of its own.
"""
from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def online_epoch(flat, offsets, cells, columns, cell_signs, column_signs, inputs, targets, order, beta, u0, alpha, u1,
                 faithful):
    """Train every network on every sample of ``order``; returns the summed |error|."""
    n_layers = len(cells)
    networks = targets.shape[0]
    width = 0
    for layer in range(n_layers):
        width = max(width, columns[layer])
    sources = np.empty((n_layers, width))
    outputs = np.empty((n_layers, width))
    total = 0.0
    for row in order:
        sources[0, 0] = beta
        sources[0, 1] = beta
        for i in range(inputs.shape[1]):
            sources[0, 2 + 2 * i] = inputs[row, i]
            sources[0, 3 + 2 * i] = inputs[row, i]
        for k in range(networks):
            for layer in range(n_layers):
                n_cells, n_cols = cells[layer], columns[layer]
                base = offsets[layer] + k * n_cells * n_cols
                for i in range(n_cells):
                    u = 0.0
                    start = base + i * n_cols
                    for m in range(n_cols):
                        u += flat[start + m] * sources[layer, m]
                    outputs[layer, i] = 0.5 + 0.5 * math.tanh(u / u0)
                if layer + 1 < n_layers:
                    sources[layer + 1, 0] = beta
                    sources[layer + 1, 1] = beta
                    for i in range(n_cells):
                        sources[layer + 1, 2 + i] = outputs[layer, i]
            error = targets[k, row] - outputs[n_layers - 1, 0]
            total += abs(error)
            d_plus = max(error, 0.0)
            d_minus = max(-error, 0.0)
            for layer in range(n_layers):
                last = layer == n_layers - 1
                step = alpha if last else alpha * u1
                n_cells, n_cols = cells[layer], columns[layer]
                base = offsets[layer] + k * n_cells * n_cols
                for i in range(n_cells):
                    o = outputs[layer, i]
                    slope = o * (1.0 - o) * cell_signs[layer, i]
                    start = base + i * n_cols
                    for m in range(n_cols):
                        if flat[start + m] == 0.0:
                            continue
                        x = sources[layer, m]
                        if faithful:
                            sign = column_signs[layer, m]
                            if sign > 0.0:
                                flat[start + m] += (slope * (x * sign * d_plus)) * step
                            else:
                                flat[start + m] += (slope * (x * sign * d_minus)) * step
                        else:
                            flat[start + m] += ((slope * error) * x) * step
    return total


def flatten(weights: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """One flat buffer holding ``weights``, views of it in the same shapes, and the offsets and sizes."""
    sizes = [w.size for w in weights]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    flat = np.concatenate([w.ravel() for w in weights]).astype(np.float64)
    views = [flat[o:o + s].reshape(w.shape) for o, s, w in zip(offsets, sizes, weights)]
    cells = np.array([w.shape[1] for w in weights], dtype=np.int64)
    columns = np.array([w.shape[2] for w in weights], dtype=np.int64)
    return flat, views, offsets, cells, columns
