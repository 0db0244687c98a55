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

import math
from typing import NamedTuple

import numpy as np

RULES = ("faithful", "bidirectional")
ED_DEFAULTS = {"hidden": [16], "alpha": 0.8, "beta": 0.8, "u0": 0.4, "u1": 1.0, "init_max": 1.0,
               "rule": "faithful", "shuffle": True, "dtype": "float64"}


class Settings(NamedTuple):
    """The rule's settings as the compiled kernels take them."""
    alpha: float
    beta: float
    u0: float
    u1: float
    faithful: bool

    @classmethod
    def of(cls, params: dict, real=float) -> Settings:
        """The settings of ``params``, each number converted by ``real`` (a kernel's scalar type)."""
        return cls(real(params["alpha"]), real(params["beta"]), real(params["u0"]), real(params["u1"]),
                   params["rule"] == "faithful")


# One cell's output and one weight's step, each defined once: ed_neuron runs them as Python, and the
# numba kernels compile them in through ``rule_kernel`` (which says what a change here asks of their
# caches). numba is not imported here: it would add its start-up to every ED job, ed_neuron's too.
def sigmoid_scalar(u, u0):
    """Kaneko's f(u) = 1 / (1 + exp(-2u/u0)), written with tanh so it never overflows: one cell's
    output from its sum. The C library's tanh, in Python and in numba alike, so the two agree bit for
    bit. In float32 the arithmetic after tanh is float64, which rounds back to the same float32."""
    return 0.5 + 0.5 * math.tanh(u / u0)


def sigmoid(u: np.ndarray, u0: float, out: np.ndarray | None = None) -> np.ndarray:
    """``sigmoid_scalar`` over a NumPy array (into ``out`` if given), for the minibatch paths. A second
    form because NumPy's array tanh is its own SIMD code, whose last bit can differ from the C
    library's: the minibatch paths compute with NumPy's, and their results are NumPy's."""
    out = np.tanh(u / u0, out=out)
    out *= 0.5
    out += 0.5
    return out


def slope(output, sign):
    """o(1-o)s_k: how much a cell of sign s_k with output o passes on to its weights."""
    return output * (1.0 - output) * sign


def faithful_signal(source, sign, d):
    """x_m * s_m * d, the faithful rule's factor of the source m: d is d+ for an excitatory source
    and d- for an inhibitory one (the bidirectional rule's factor is x_m, its slope times e)."""
    return source * sign * d


def learned(weight, gain, signal, step):
    """A weight after one sample: w + (gain * signal) * step, with gain the cell's slope (times e
    under the bidirectional rule) and signal the source's factor (x_m under that rule). ed_neuron and
    ed_matrix's compiled loop (``online_kernel``) both step through here, which keeps them bit for
    bit alike. A weight of exactly zero is no connection and stays zero."""
    return weight + (gain * signal) * step if weight != 0.0 else weight


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
