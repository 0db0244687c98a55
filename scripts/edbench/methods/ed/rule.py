"""Shared definitions of Kaneko's error-diffusion learning (ED法).

Weight layout (every ED method reads and writes this, see ``get_weights``/``set_weights``):
a list with one array per layer, hidden layers first and the output layer last. Layer ``l`` is a
float64 array of shape ``(K, n_cells[l], 2 + n_sources[l])`` holding signed weights, where K is
the number of networks (1 for two classes, one per class otherwise). Columns are the sources in
order: the excitatory bias cell, the inhibitory bias cell, then the source cells. For the first
layer the source cells are the input cells, interleaved ``x0+, x0-, x1+, x1-, ...`` (each input
value feeds one excitatory and one inhibitory cell); for later layers they are the cells of the
previous layer. Within a hidden layer cell ``j`` is inhibitory when ``j`` is even and excitatory
when it is odd, as in Kaneko's program, whose first hidden cell (the one after the output cell) is
inhibitory; for odd widths that makes one more inhibitory cell than excitatory ones. The single
output cell is excitatory (tests/test_reproduction.py fails if this drifts). A weight from a cell
of type s_m into a cell of type s_k has the sign s_m*s_k, and a weight that is exactly zero is no
connection and stays zero.

Rules (per sample; minibatches average the per-sample changes):
  faithful       Kaneko's program: e = t - o, d+ = max(e, 0), d- = max(-e, 0); hidden cells get
                 u1*d. w_km += alpha * x_m * o_k(1-o_k) * d * s_m * s_k, with d = d+ when the
                 source m is excitatory and d- when it is inhibitory. Magnitudes only grow.
  bidirectional  seed 004's variant: w_km += alpha * x_m * o_k(1-o_k) * e * s_k (e signed, u1*e
                 for hidden cells), so every weight moves either way and may change sign.
"""
from __future__ import annotations

import numpy as np

RULES = ("faithful", "bidirectional")
ED_DEFAULTS = {"hidden": [16], "alpha": 0.8, "beta": 0.8, "u0": 0.4, "u1": 1.0, "init_max": 1.0,
               "rule": "faithful", "shuffle": True, "dtype": "float64"}


def sigmoid(u: np.ndarray, u0: float) -> np.ndarray:
    """Kaneko's f(u) = 1 / (1 + exp(-2u/u0)), written with tanh so it never overflows."""
    return 0.5 + 0.5 * np.tanh(u / u0)


def hidden_signs(n: int) -> np.ndarray:
    return np.where(np.arange(n) % 2 == 0, -1.0, 1.0)


def source_signs(n_source_cells: int) -> np.ndarray:
    """Signs of a hidden or output layer's columns: bias+, bias-, then the previous layer's cells."""
    return np.concatenate([[1.0, -1.0], hidden_signs(n_source_cells)])


def input_source_signs(n_inputs: int) -> np.ndarray:
    """Signs of the first layer's columns: bias+, bias-, then x0+, x0-, x1+, x1-, ..."""
    return np.tile([1.0, -1.0], n_inputs + 1)


def layer_source_signs(layer: int, columns: int) -> np.ndarray:
    return input_source_signs(columns // 2 - 1) if layer == 0 else source_signs(columns - 2)


def layer_shapes(n_inputs: int, hidden: list[int]) -> list[tuple[int, int]]:
    """(cells, columns) of every layer, output last."""
    shapes, sources = [], 2 * n_inputs
    for cells in [*hidden, 1]:
        shapes.append((cells, 2 + sources))
        sources = cells
    return shapes


def cell_signs(layer: int, n_layers: int, cells: int) -> np.ndarray:
    return np.ones(1) if layer == n_layers - 1 else hidden_signs(cells)


def sign_tables(shapes: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(layers, most cells) cell signs and (layers, most columns) column signs, zero-padded,
    for compiled kernels that walk every layer."""
    cells = np.zeros((len(shapes), max(c for c, _ in shapes)))
    columns = np.zeros((len(shapes), max(m for _, m in shapes)))
    for layer, (n_cells, n_columns) in enumerate(shapes):
        cells[layer, :n_cells] = cell_signs(layer, len(shapes), n_cells)
        columns[layer, :n_columns] = layer_source_signs(layer, n_columns)
    return cells, columns


def initial_weights(n_inputs: int, hidden: list[int], n_networks: int, rng: np.random.Generator,
                    init_max: float = 1.0) -> list[np.ndarray]:
    """Magnitudes uniform on [0, init_max), signed s_m*s_k, drawn layer by layer."""
    shapes = layer_shapes(n_inputs, hidden)
    weights = []
    for layer, (cells, columns) in enumerate(shapes):
        magnitude = rng.uniform(0.0, init_max, size=(n_networks, cells, columns))
        signs = np.outer(cell_signs(layer, len(shapes), cells), layer_source_signs(layer, columns))
        weights.append(magnitude * signs)
    return weights


def n_networks(n_classes: int) -> int:
    return 1 if n_classes == 2 else n_classes


def targets(y: np.ndarray, n_classes: int) -> np.ndarray:
    """(n, K) targets: the label itself for two classes, one-vs-rest otherwise."""
    if n_classes == 2:
        return y.astype(np.float64)[:, None]
    return (y[:, None] == np.arange(n_classes)[None, :]).astype(np.float64)


def decide(outputs: np.ndarray, n_classes: int) -> np.ndarray:
    """Class from (n, K) outputs: threshold 0.5 for one network, arg max over networks otherwise."""
    if n_classes == 2:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def check_layout(weights: list[np.ndarray], n_inputs: int, hidden: list[int], k: int) -> None:
    expected = [(k, *shape) for shape in layer_shapes(n_inputs, hidden)]
    got = [w.shape for w in weights]
    if got != expected:
        raise ValueError(f"ED weights have shapes {got}, expected {expected}")
