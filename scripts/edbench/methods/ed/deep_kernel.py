"""Deep ED's compiled loops (numba), for ``deep``'s stack of equal hidden layers.

- ``forward_stack``: layer after layer, with the minibatch as the innermost, contiguous axis so the
  products and the sigmoid (``exp_kernel``'s vector exp, on each sum in registers) run as SIMD;
- ``learn_stack``: the whole stack at once, since under ED a layer's change needs only its own
  inputs and outputs and the broadcast error;
- ``train_epoch``: for several networks, each one's whole minibatch epoch (first layer, stack,
  output cell, error, learning) in one call, the networks over numba's threads.

The rule's settings come as ``rule.Settings`` in float64; each loop converts them to the weights'
type itself, so a float32 network computes in float32.
"""
from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from edbench.maths.exp_kernel import sigmoid_into
from edbench.methods.ed import pixel_kernel, rule, rule_kernel, stack_kernel
from edbench.methods.ed.online_kernel import Samples


class DeepLayers(NamedTuple):
    """Every network's weights as ``deep`` holds them: the first layer source-major (K, 2 + 2n,
    width), the stack of equal hidden layers (layers, K, width, 2 + width), the output cells
    (K, 1, 2 + width), the stack's connections (None where none of its weights is absent), and the
    hidden cells' signs (width,)."""
    first_t: np.ndarray
    stack: np.ndarray
    last: np.ndarray
    connected: np.ndarray | None
    cell_signs: np.ndarray
def forward_stack(stack, outputs, beta, u0):
    """outputs[l + 1, k, i, :] = f(stack[l, k, i] . [beta, beta, outputs[l, k, :, b]]) for every b.

    outputs is (layers + 1, K, width, B); outputs[0] holds the first hidden layer. The K networks
    are independent: several go to numba's threads, each computing exactly what it would alone.
    """
    if stack.shape[1] > 1 and numba.get_num_threads() > 1:
        _forward_parallel(stack, outputs, beta, u0)
    else:
        _forward_serial(stack, outputs, beta, u0)


@numba.njit(cache=True)
def _forward_serial(stack, outputs, beta, u0):
    for k in range(stack.shape[1]):
        _forward_network(k, stack, outputs, beta, u0)


@numba.njit(cache=True, parallel=True)
def _forward_parallel(stack, outputs, beta, u0):
    for k in numba.prange(stack.shape[1]):   # prange counts in uint64: as int64, the serial loop's compile serves
        _forward_network(np.int64(k), stack, outputs, beta, u0)


@numba.njit(cache=True, fastmath={"contract"})   # contract: the biases' multiply-add fused
def _forward_network(k, stack, outputs, beta, u0):
    """Network k's stack, forward. Each cell's output is ``rule.sigmoid_scalar`` in Kaneko's own
    form, 1 / (1 + exp(-2u/u0)), written for SIMD: ``rule.sigmoid_scalar`` calls the C library's
    tanh once per value, which does not vectorise, where this runs ``exp_kernel``'s vector exp on
    each vector of sums as it is made. The two agree to rounding, not bit for bit."""
    layers, networks, width, _ = stack.shape
    batch = outputs.shape[3]
    real = outputs.dtype.type
    scale, beta = real(-2.0 / u0), real(beta)
    biases = np.empty(width, dtype=outputs.dtype)
    # Widths 4, 8 and 16: the batch's whole vectors in one pass per layer, from the sources to the
    # outputs in registers (``stack_kernel``), with the arrays whole (a view per layer costs an
    # atomic reference count); the rest of the batch, and other widths, in ``_rest_forward``.
    done = stack_kernel.sums_count(outputs)
    for layer in range(layers):
        for i in range(width):
            biases[i] = stack[layer, k, i, 0] * beta + stack[layer, k, i, 1] * beta
        stack_kernel.layer_forward(stack, outputs, layer, k, biases, done, scale)
        if done < batch:
            _rest_forward(stack[layer, k], biases, outputs[layer, k], done, scale, outputs[layer + 1, k])


@numba.njit(cache=True, error_model="numpy", fastmath={"contract"})
def _rest_forward(weights, biases, sources, done, scale, out):
    """A stack layer's outputs from sample ``done`` on, as ``stack_kernel.layer_forward`` computes
    them: four sources a pass over the batch, each sum still added in source order (a pass per
    source loaded and stored the row once per multiply-add). A missing fourth term is 0 * x, which
    adds exactly nothing; the last pass scales, the others multiply by exactly 1."""
    width, batch = sources.shape
    one = sources.dtype.type(1.0)
    row = np.empty(batch - done, dtype=sources.dtype)
    for i in range(width):
        w = weights[i]
        bias = biases[i]
        for j in range(0, width, 4):
            s = scale if j + 4 >= width else one
            w0, w1, w2, w3, x0, x1, x2, x3 = _four_sources(w, sources[:, done:], j)
            if j == 0:
                for b in range(batch - done):
                    row[b] = ((((bias + w0 * x0[b]) + w1 * x1[b]) + w2 * x2[b]) + w3 * x3[b]) * s
            else:
                for b in range(batch - done):
                    row[b] = ((((row[b] + w0 * x0[b]) + w1 * x1[b]) + w2 * x2[b]) + w3 * x3[b]) * s
        sigmoid_into(row, out[i, done:])


@numba.njit(cache=True, inline="always")
def _four_sources(w, sources, j):
    """The weights of sources j to j + 3 (a cell's row ``w``, the bias pair first) and their values
    over the batch; past the last source, weight 0 and source j's values."""
    width = sources.shape[0]
    zero = w[0] - w[0]
    x0 = sources[j]
    w1, x1 = (w[3 + j], sources[j + 1]) if j + 1 < width else (zero, x0)
    w2, x2 = (w[4 + j], sources[j + 2]) if j + 2 < width else (zero, x0)
    w3, x3 = (w[5 + j], sources[j + 3]) if j + 3 < width else (zero, x0)
    return w[2 + j], w1, w2, w3, x0, x1, x2, x3


def learn_stack(layers: DeepLayers, outputs, errors, settings: rule.Settings, step):
    """stack[l] += step times the change of hidden layer l + 1, from outputs[l] (its sources) and
    outputs[l + 1]; errors (3, K, B) holds e, d+ and d- per network and sample. Several networks on
    numba's threads, as in ``forward_stack``."""
    if layers.stack.shape[1] > 1 and numba.get_num_threads() > 1:
        _learn_parallel(layers, outputs, errors, settings, step)
    else:
        _learn_serial(layers, outputs, errors, settings, step)


@numba.njit(cache=True)
def _learn_serial(layers, outputs, errors, settings, step):
    for k in range(layers.stack.shape[1]):
        _learn_network(k, layers, outputs, errors, settings, step, layers.connected)


@numba.njit(cache=True, parallel=True)
def _learn_parallel(layers, outputs, errors, settings, step):
    for k in numba.prange(layers.stack.shape[1]):
        _learn_network(np.int64(k), layers, outputs, errors, settings, step, layers.connected)


@numba.njit(cache=True, fastmath={"reassoc", "contract"})  # the sums over the minibatch vectorise, fused
def _learn_network(k, layers, outputs, errors, settings, step, connected):
    """Network k's stack learns. ``connected`` is ``layers.connected``, passed on its own so that
    numba drops its test where it is None (it does so only for arguments)."""
    stack, cell_signs, faithful = layers.stack, layers.cell_signs, settings.faithful
    error, d_plus, d_minus = errors[0, k], errors[1, k], errors[2, k]
    n_layers, networks, width, columns = stack.shape
    batch = outputs.shape[3]
    # Every constant in the stack's type: a Python float would turn float32 arithmetic into float64.
    real = stack.dtype.type
    beta, step, one = real(settings.beta), real(step), real(1.0)
    # Per cell and sample, what its gain is multiplied by (its sign, times e under the
    # bidirectional rule) and what its output is (d+, -d- or 1): the same in every layer.
    along, passed = np.empty((width, batch), dtype=stack.dtype), np.empty((width, batch), dtype=stack.dtype)
    for i in range(width):
        sign = real(cell_signs[i])
        for b in range(batch):
            along[i, b] = sign if faithful else sign * error[b]
            passed[i, b] = one if not faithful else (d_plus[b] if sign > 0 else -d_minus[b])
    g = np.empty((width, batch), dtype=stack.dtype)
    # Each layer's sources' signals, and the next layer's, which this layer's outputs give: one
    # pass over a layer's outputs makes their gains here and their signals there.
    signals = np.empty((2, columns, batch), dtype=stack.dtype)
    totals = np.empty((width, columns), dtype=stack.dtype)
    for b in range(batch):   # the bias cells' signals, the same in every layer
        for twin in range(2):
            signals[twin, 0, b] = beta * d_plus[b] if faithful else beta
            signals[twin, 1, b] = -(beta * d_minus[b]) if faithful else beta
    _signals_of(outputs[0, k], cell_signs, d_plus, d_minus, faithful, signals[0])
    # Widths 4, 8 and 16: the batch's whole vectors in vector code (``stack_kernel``), which takes
    # the arrays whole (a view per layer costs an atomic reference count); the rest of the batch,
    # and other widths, in ``_learn_rest``.
    done = stack_kernel.vector_count(outputs)
    for layer in range(n_layers):
        stack_kernel.layer_learning(outputs, along, passed, signals, layer, k, done, totals)
        if done < batch:
            _learn_rest(outputs[layer + 1, k], along, passed, signals[layer % 2], signals[(layer + 1) % 2], g, done,
                        totals)
        for i in range(width):
            for m in range(columns):
                if connected is None or connected[layer, k, i, m]:
                    stack[layer, k, i, m] += totals[i, m] * step


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _learn_rest(o, along, passed, signal, following, g, done, totals):
    """A stack layer's learning over the batch from ``done`` on, added to ``totals`` (replacing them
    where ``done`` is 0): the gains into ``g``, the outputs' signals upward into ``following``, and
    the sums four cells by two sources a pass over the batch (each value loaded serves two or four
    products; past the last cell or source a pass repeats it, and only the first copy is added)."""
    width, batch = o.shape
    columns = signal.shape[0]
    one, zero = o.dtype.type(1.0), o.dtype.type(0.0)
    for i in range(width):
        for b in range(done, batch):
            g[i, b] = o[i, b] * (one - o[i, b]) * along[i, b]
            following[2 + i, b] = o[i, b] * passed[i, b]
    for i in range(0, width, 4):
        i1, i2, i3 = min(i + 1, width - 1), min(i + 2, width - 1), min(i + 3, width - 1)
        g0, g1, g2, g3 = g[i], g[i1], g[i2], g[i3]
        for m in range(0, columns, 2):
            m1 = min(m + 1, columns - 1)
            s0, s1 = signal[m], signal[m1]
            t00 = t10 = t20 = t30 = t01 = t11 = t21 = t31 = zero
            for b in range(done, batch):
                x0, x1 = s0[b], s1[b]
                t00 += g0[b] * x0
                t10 += g1[b] * x0
                t20 += g2[b] * x0
                t30 += g3[b] * x0
                t01 += g0[b] * x1
                t11 += g1[b] * x1
                t21 += g2[b] * x1
                t31 += g3[b] * x1
            for a, c, total in ((0, 0, t00), (1, 0, t10), (2, 0, t20), (3, 0, t30),
                                (0, 1, t01), (1, 1, t11), (2, 1, t21), (3, 1, t31)):
                cell, source = i + a, m + c
                if cell < width and source < columns:
                    totals[cell, source] = (totals[cell, source] if done > 0 else zero) + total


@numba.njit(cache=True)
def _signals_of(sources, cell_signs, d_plus, d_minus, faithful, signal):
    """The first stack layer's sources' signals (``signal[2:]``): x d+ for an excitatory source, -x d-
    for an inhibitory one, x under the bidirectional rule."""
    for j in range(sources.shape[0]):
        x, into = sources[j], signal[2 + j]
        for b in range(sources.shape[1]):
            if not faithful:
                into[b] = x[b]
            elif cell_signs[j] > 0:
                into[b] = x[b] * d_plus[b]
            else:
                into[b] = -(x[b] * d_minus[b])


def train_epoch(layers: DeepLayers, samples: Samples, order: np.ndarray, settings: rule.Settings,
                batch: int) -> np.ndarray:
    """A whole minibatch epoch of every network, each from first layer to output and back, with no
    NumPy step between: the K networks are independent for the whole epoch, so several go to
    numba's threads in one parallel region, each computing exactly what it would alone.

    The samples come compressed, with their targets, and ``order`` names the rows to visit, in the
    epoch's order; only whole batches are learned. Returns each network's summed |error|."""
    order = np.ascontiguousarray(order, dtype=np.int64)
    if layers.stack.shape[1] > 1 and numba.get_num_threads() > 1:
        # One network at a time to whichever thread is free, so a thread slowed by another process
        # on its core leaves more networks to the other (the same weights whatever the split).
        with numba.parallel_chunksize(1):
            return _epoch_parallel(layers, samples, order, settings, batch)
    return _epoch_serial(layers, samples, order, settings, batch)


@numba.njit(cache=True)
def _epoch_serial(layers, samples, order, settings, batch):
    stack = layers.stack
    totals = np.zeros(stack.shape[1])
    outputs = np.empty((stack.shape[0] + 1, stack.shape[1], stack.shape[2], batch), dtype=stack.dtype)
    errors = np.empty((3, stack.shape[1], batch), dtype=stack.dtype)
    for k in range(stack.shape[1]):
        totals[k] = _epoch_network(k, layers, samples, order, settings, outputs, errors)
    return totals


@numba.njit(cache=True, parallel=True)
def _epoch_parallel(layers, samples, order, settings, batch):
    stack = layers.stack
    totals = np.zeros(stack.shape[1])
    outputs = np.empty((stack.shape[0] + 1, stack.shape[1], stack.shape[2], batch), dtype=stack.dtype)
    errors = np.empty((3, stack.shape[1], batch), dtype=stack.dtype)
    for k in numba.prange(stack.shape[1]):
        totals[k] = _epoch_network(np.int64(k), layers, samples, order, settings, outputs, errors)
    return totals


@numba.njit(cache=True)
def _epoch_network(k, layers, samples, order, settings, outputs, errors):
    """Network k's epoch; outputs[:, k] and errors[:, k] are its own scratch."""
    first_t, stack, last, connected, cell_signs = layers
    targets = samples.targets
    batch = outputs.shape[3]
    real = stack.dtype.type
    beta, u0, alpha, u1 = settings.beta, settings.u0, settings.alpha, settings.u1
    pairs = first_t.shape[1] // 2
    width = first_t.shape[2]
    folded = np.empty((pairs, width), dtype=stack.dtype)
    change = np.empty((pairs, 2, width), dtype=stack.dtype)
    out = np.empty(batch, dtype=stack.dtype)
    total = 0.0
    for begin in range(0, len(order) - batch + 1, batch):
        pixel_kernel.fold(k, first_t, folded)
        pixel_kernel.first_forward(folded, samples, order, begin, real(beta), real(u0), outputs[0, k])
        _forward_network(k, stack, outputs, beta, u0)
        _last_forward(last[k, 0], outputs[-1, k], real(beta), real(u0), out)
        error, d_plus, d_minus = errors[0, k], errors[1, k], errors[2, k]
        for b in range(batch):
            e = targets[k, order[begin + b]] - out[b]
            error[b] = e
            d_plus[b] = max(e, real(0.0))
            d_minus[b] = max(-e, real(0.0))
            total += abs(e)
        step = alpha * u1 / batch
        pixel_kernel.first_learn(k, layers, change, samples, order, begin, outputs[0, k], error, real(beta),
                                 real(step), settings.faithful)
        _learn_network(k, layers, outputs, errors, settings, step, connected)
        _last_learn(last[k, 0], outputs[-1, k], out, error, real(beta), real(alpha / batch), cell_signs,
                    settings.faithful)
    return total


@numba.njit(cache=True)
def _last_forward(w, hidden, beta, u0, out):
    width, batch = hidden.shape
    bias = w[0] * beta + w[1] * beta
    for b in range(batch):
        u = bias
        for j in range(width):
            u += w[2 + j] * hidden[j, b]
        out[b] = rule_kernel.sigmoid_scalar(u, u0)


@numba.njit(cache=True)
def _last_learn(w, hidden, out, error, beta, step, cell_signs, faithful):
    """The output cell's change (sign +1): faithful, excitatory sources learn from d+ and inhibitory
    ones from d- (with their sign); bidirectional, every source from e."""
    width, batch = hidden.shape
    real = out.dtype.type
    one, zero = real(1.0), real(0.0)
    up_total = np.zeros(2 + width, dtype=out.dtype)
    for b in range(batch):
        slope = out[b] * (one - out[b])
        e = error[b]
        if faithful:
            up, down = slope * max(e, zero), slope * max(-e, zero)
            up_total[0] += up * beta
            up_total[1] -= down * beta
            for j in range(width):
                if cell_signs[j] > 0:
                    up_total[2 + j] += up * hidden[j, b]
                else:
                    up_total[2 + j] -= down * hidden[j, b]
        else:
            g = slope * e
            up_total[0] += g * beta
            up_total[1] += g * beta
            for j in range(width):
                up_total[2 + j] += g * hidden[j, b]
    for m in range(2 + width):
        w[m] += up_total[m] * step
