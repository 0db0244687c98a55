"""Finite-difference gradients of the MLP loss: naive, and step-aware as in seed 001.

The naive gradient perturbs one parameter at a time and reruns the whole network. The
step-aware gradient keeps every intermediate value of the unperturbed pass and, for each
parameter, recomputes only what lies downstream of it, for all parameters of a layer at once:
a weight into the output changes one logit column, and a weight into a hidden unit changes one
hidden activation and, through it, the logits. Loss changes are formed directly
(log1p of the change of the softmax normaliser), which avoids subtracting two nearly equal
losses. Step-aware supports networks with one hidden layer.
"""
from __future__ import annotations

import math

import numpy as np

from edbench.maths import mlp

SCHEMES = ("forward", "central")


def naive_gradient(params, x, y, activation: str, eps: float, scheme: str = "central"):
    base = mlp.loss(params, x, y, activation) if scheme == "forward" else None
    grads = []
    for p in params:
        g = np.zeros_like(p)
        flat_p, flat_g = p.reshape(-1), g.reshape(-1)
        for k in range(flat_p.size):
            saved = flat_p[k]
            flat_p[k] = saved + eps
            plus = mlp.loss(params, x, y, activation)
            if scheme == "forward":
                flat_g[k] = (plus - base) / eps
            else:
                flat_p[k] = saved - eps
                minus = mlp.loss(params, x, y, activation)
                flat_g[k] = (plus - minus) / (2 * eps)
            flat_p[k] = saved
        grads.append(g)
    return grads


def _loss_changes_output(probs, h, onehot, step):
    """Loss change for W2[j, c] += step (h includes a column of ones for b2): shape (H+1, C)."""
    # logit c of sample b moves by step * h[b, j]
    moved = np.expm1(step * h)                                      # (B, H+1)
    normaliser = np.log1p(np.einsum("bc,bj->bjc", probs, moved))     # (B, H+1, C)
    target = step * np.einsum("bj,bc->bjc", h, onehot)
    return (normaliser - target).mean(axis=0)


def _loss_changes_hidden(x1, z, h, w2, probs, y, activation, step):
    """Loss change for W1[i, j] += step (x1 includes a column of ones for b1): shape (D+1, H)."""
    batch = len(y)
    changes = np.empty((x1.shape[1], z.shape[1]))
    for j in range(z.shape[1]):
        dh = mlp.activate(z[None, :, j] + step * x1.T, activation) - h[None, :, j]   # (D+1, B)
        shift = dh[:, :, None] * w2[j]                                                # (D+1, B, C)
        normaliser = np.log1p(np.einsum("bc,dbc->db", probs, np.expm1(shift)))
        changes[:, j] = (normaliser - dh * w2[j, y][None, :]).sum(axis=1) / batch
    return changes



def step_aware_gradient(params, x, y, activation: str, eps: float, scheme: str = "central", compiled=True):
    """Step-aware finite differences of a one-hidden-layer network: compiled where its series are
    exact to rounding (``finite_diff_kernel``), otherwise with NumPy, one layer's parameters at once."""
    if len(params) != 4:
        raise ValueError("step-aware finite differences support networks with exactly one hidden layer")
    if compiled:
        flat = np.concatenate([p.ravel() for p in params]).astype(np.float64)
        out = np.empty_like(flat)
        if step_aware_flat(flat, params[0].shape, params[2].shape[1], x, y, activation, eps, scheme, out) is not None:
            return unflatten(out, [p.shape for p in params])
    return _step_aware_numpy(params, x, y, activation, eps, scheme)


def step_aware_flat(flat, w1_shape, n_classes, x, y, activation, eps, scheme, out) -> float | None:
    """Compiled gradient into ``out`` (same layout as ``flat``: W1, b1, W2, b2); returns the loss,
    or None if the compiled series would not be exact and the NumPy path must be used."""
    from edbench.maths import finite_diff_kernel  # here, not above: see ``edbench.methods``

    loss = finite_diff_kernel.gradient(flat, w1_shape[0], w1_shape[1], n_classes, read_only(x),
                                       np.ascontiguousarray(y, np.int64), eps, activation == "relu",
                                       scheme == "central", out)
    return None if math.isnan(loss) else loss


def read_only(x) -> np.ndarray:
    """``x`` as a contiguous float64 view that cannot be written: numba compiles a kernel apart for
    read-only and writable arrays (4 s each here), and a run's training inputs come writable from
    its job but read-only to the speed benchmark's rows, so every caller passes the read-only kind."""
    inputs = np.ascontiguousarray(x, np.float64).view()
    inputs.flags.writeable = False
    return inputs


def unflatten(flat, shapes):
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start:start + size].reshape(shape))
        start += size
    return views


def _step_aware_numpy(params, x, y, activation: str, eps: float, scheme: str):
    w1, b1, w2, b2 = params
    z = x @ w1 + b1
    h = mlp.activate(z, activation)
    logits = h @ w2 + b2
    probs = np.exp(mlp.log_softmax(logits))
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(y)), y] = 1
    x1 = np.hstack([x, np.ones((len(y), 1), dtype=x.dtype)])
    h1 = np.hstack([h, np.ones((len(y), 1), dtype=h.dtype)])

    def changes(step):
        return (_loss_changes_hidden(x1, z, h, w2, probs, y, activation, step),
                _loss_changes_output(probs, h1, onehot, step))

    hidden_plus, output_plus = changes(eps)
    if scheme == "forward":
        hidden, output = hidden_plus / eps, output_plus / eps
    else:
        hidden_minus, output_minus = changes(-eps)
        hidden = (hidden_plus - hidden_minus) / (2 * eps)
        output = (output_plus - output_minus) / (2 * eps)
    return [hidden[:-1], hidden[-1], output[:-1], output[-1]]
