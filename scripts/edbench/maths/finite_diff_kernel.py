"""Compiled step-aware finite differences for one-hidden-layer networks (numba).

For each parameter it forms the change of the mean cross-entropy when that parameter moves by
``step``, recomputing only what lies downstream, as ``finite_diff.step_aware_gradient`` does,
but without transcendental functions where the arguments are tiny:
- a weight into the output moves one logit by d = step*h: the loss change of a sample is
  log1p(p_c * expm1(d)) - d*[c == y];
- a weight W1[i, j] moves hidden unit j by dh = f(z + t) - f(z), t = step*x_i (exactly zero when
  x_i is zero, which skips most MNIST pixels); the normaliser changes by
  sum_c p_c expm1(dh*w_jc) = sum_k dh^k/k! * M_k with M_k = sum_c p_c w_jc^k, so the classes
  drop out of the inner loop.
expm1 and log1p use their Taylor series when the argument is below 1e-3 (truncated once the
next term is under 1e-18 of the sum, i.e. exact to rounding) and the C library otherwise. The
sigmoid difference is formed without cancelling: f(z+t) - f(z) = -expm1(-t) * f(z+t) * (1 - f(z)).
"""
from __future__ import annotations

import math

import numba
import numpy as np

SMALL = 1e-3
TERMS = 12
RECIPROCALS = tuple(1.0 / n if n else 0.0 for n in range(TERMS + 1))
INV_FACTORIALS = tuple(1.0 / math.factorial(n) for n in range(31))


@numba.njit(cache=True, inline="always")
def _expm1(a):
    if abs(a) < 1e-4:  # five terms: the sixth is below 1e-20 of the sum
        return a * (1.0 + a * (0.5 + a * (1.0 / 6.0 + a * (1.0 / 24.0 + a * (1.0 / 120.0)))))
    if abs(a) >= SMALL:
        return math.expm1(a)
    term = a
    total = a
    for n in range(2, TERMS):
        term *= a * RECIPROCALS[n]
        total += term
        if abs(term) < 1e-18 * abs(total):
            break
    return total


@numba.njit(cache=True, inline="always")
def _log1p(s):
    if abs(s) < 1e-4:  # five terms: the sixth is below 1e-20 of the sum
        return s * (1.0 - s * (0.5 - s * (1.0 / 3.0 - s * (0.25 - s * 0.2))))
    if abs(s) >= SMALL:
        return math.log1p(s)
    power = s
    total = s
    for n in range(2, TERMS):
        power *= -s
        term = power * RECIPROCALS[n]
        total += term
        if abs(term) < 1e-18 * abs(total):
            break
    return total


@numba.njit(cache=True, inline="always")
def _activation_change(z, t, shrink, decay_z, h, relu):
    """f(z + t) - f(z); ``shrink`` is -expm1(-t) (shared by every hidden unit), ``decay_z`` exp(-z)."""
    if relu:
        return max(z + t, 0.0) - h
    moved = 1.0 / (1.0 + decay_z * (1.0 - shrink))   # exp(-(z+t)) = exp(-z) * exp(-t)
    return shrink * moved * (1.0 - h)


@numba.njit(cache=True)
def loss_changes(x, y, z, h, w2, probs, step, relu, orders):
    """Mean loss change for every W1 (+ b1 as the last row) and W2 (+ b2) entry moved by ``step``.

    ``orders`` is how many moments M_k to use (enough that the series is exact to rounding).
    Returns (hidden (D+1, H), output (H+1, C)).
    """
    batch, n_inputs = x.shape
    n_hidden, n_classes = w2.shape
    hidden = np.zeros((n_inputs + 1, n_hidden))
    output = np.zeros((n_hidden + 1, n_classes))
    for b in range(batch):
        for j in range(n_hidden + 1):
            d = step * (h[b, j] if j < n_hidden else 1.0)
            moved = _expm1(d)
            for c in range(n_classes):
                change = _log1p(probs[b, c] * moved)
                if c == y[b]:
                    change -= d
                output[j, c] += change
    moments = np.empty(orders + 1)
    shrink = np.empty(n_inputs + 1)
    for b in range(batch):
        for i in range(n_inputs + 1):
            value = x[b, i] if i < n_inputs else 1.0
            shrink[i] = -_expm1(-step * value) if value != 0.0 else 0.0
        for j in range(n_hidden):
            decay_z = 0.0 if relu else math.exp(-z[b, j])
            for k in range(1, orders + 1):
                total = 0.0
                for c in range(n_classes):
                    total += probs[b, c] * w2[j, c] ** k
                moments[k] = total * INV_FACTORIALS[k]
            target_weight = w2[j, y[b]]
            for i in range(n_inputs + 1):
                value = x[b, i] if i < n_inputs else 1.0
                if value == 0.0:
                    continue
                dh = _activation_change(z[b, j], step * value, shrink[i], decay_z, h[b, j], relu)
                # sum_k dh^k M_k / k! by Horner (moments[k] already holds M_k / k!)
                series = 0.0
                for k in range(orders, 0, -1):
                    series = (series + moments[k]) * dh
                hidden[i, j] += _log1p(series) - dh * target_weight
    hidden /= batch
    output /= batch
    return hidden, output


@numba.njit(cache=True)
def _orders(bound):
    """Moments needed so that sum_k bound^k/k! is exact to 1e-18 relative; -1 if too large."""
    if bound >= 0.05:
        return -1
    if bound == 0.0:
        return 1
    order, term = 1, bound
    while term / bound > 1e-18 and order < 30:
        order += 1
        term *= bound / order
    return order


@numba.njit(cache=True)
def gradient(flat, n_inputs, n_hidden, n_classes, x, y, eps, relu, central, out):
    """The whole step-aware gradient in one call; ``flat`` holds W1, b1, W2, b2 in order and
    ``out`` receives the gradient in the same layout. Returns the loss, or NaN when the series
    would not be exact (the caller then uses the NumPy path)."""
    batch = x.shape[0]
    w1 = flat[:n_inputs * n_hidden].reshape((n_inputs, n_hidden))
    b1 = flat[n_inputs * n_hidden:(n_inputs + 1) * n_hidden]
    start = (n_inputs + 1) * n_hidden
    w2 = flat[start:start + n_hidden * n_classes].reshape((n_hidden, n_classes))
    b2 = flat[start + n_hidden * n_classes:start + (n_hidden + 1) * n_classes]
    # explicit loops: for the small networks this runs on, BLAS calls cost more than they save
    z = np.empty((batch, n_hidden))
    h = np.empty((batch, n_hidden))
    for b in range(batch):
        for j in range(n_hidden):
            z[b, j] = b1[j]
        for i in range(n_inputs):
            value = x[b, i]
            if value != 0.0:
                for j in range(n_hidden):
                    z[b, j] += value * w1[i, j]
        for j in range(n_hidden):
            h[b, j] = max(z[b, j], 0.0) if relu else 1.0 / (1.0 + math.exp(-z[b, j]))
    probs = np.empty((batch, n_classes))
    loss = 0.0
    for b in range(batch):
        top = -np.inf
        for c in range(n_classes):
            total = b2[c]
            for j in range(n_hidden):
                total += h[b, j] * w2[j, c]
            probs[b, c] = total
            top = max(top, total)
        target = probs[b, y[b]]
        norm = 0.0
        for c in range(n_classes):
            probs[b, c] = math.exp(probs[b, c] - top)
            norm += probs[b, c]
        loss += math.log(norm) + top - target
        for c in range(n_classes):
            probs[b, c] /= norm
    x_max = 1.0
    for value in x.ravel():
        x_max = max(x_max, abs(value))
    w_max = 0.0
    for value in w2.ravel():
        w_max = max(w_max, abs(value))
    orders = _orders(eps * x_max * (1.0 if relu else 0.25) * w_max)
    if orders < 0:
        return np.nan
    hidden, output = loss_changes(x, y, z, h, w2, probs, eps, relu, orders)
    scale = 1.0 / eps
    if central:
        hidden_minus, output_minus = loss_changes(x, y, z, h, w2, probs, -eps, relu, orders)
        hidden -= hidden_minus
        output -= output_minus
        scale = 0.5 / eps
    out[:start] = hidden.ravel()
    out[start:] = output.ravel()
    out *= scale
    return loss / batch
