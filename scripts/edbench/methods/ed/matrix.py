"""Matrix ED: the rule (``rule``) as matrix operations, with the K networks stacked.

Training runs in one compiled loop (``online_kernel``) over the same matrices, online or in
minibatches: it visits only the non-zero sources of each sample (about 19% of MNIST's pixels),
learns only the columns whose sign matches the error's under the faithful rule (the others'
change is exactly 0), and runs the K networks in parallel. Online (batch_size 1, the default) it
is Kaneko's rule and reproduces ``ed_neuron`` bit for bit in float64. A minibatch runs every
sample forward on the weights before it, then adds each sample's change divided by the batch's
size, with the first layer's +/- column pairs folded for the forward sums: equal to the NumPy
path below up to rounding (tests/test_ed.py).

The NumPy path (``minibatch_epoch``, ``forward``, ``learn``) runs a minibatch of B samples over
every input, zero or not: forward as one batched product per layer, learning as one batched
product per layer, alpha/B * G^T @ (X * D), where G holds o(1-o)*s_k per cell and sample, X the
source values times their signs s_m, and D picks d+ or d- by source type (faithful) or is e
(bidirectional). The first layer sees every input value twice (its + and - column), so there the
forward product is folded over the column pairs and each sample's change reaches one column of a
pair (``first_layer_sums``, ``learn_first_layer``). ed_deep builds on it, ``outputs`` uses its
forward, and the speed table times the compiled minibatches against it. The weights are stored
source-major (``weights_t``, (K, columns, cells)); ``weights`` are (K, cells, columns) views of the
same memory.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from edbench.methods.base import ConfigError, unchangeable
from edbench.methods.ed import rule as ed
from edbench.methods.ed.common import EDMethod


class EDMatrix(EDMethod):
    name = "ed_matrix"
    defaults = {**EDMethod.defaults, "batch_size": 1}
    chunk = 2048
    _kept_rows = None   # (inputs, their compressed rows) for inputs that cannot change

    def skips_unmatched_columns(self):
        return True    # the compiled loop learns only the columns the error's sign reaches

    def visits_nonzero_sources(self):
        return True    # the compiled loop, online and in minibatches

    @classmethod
    def loop_scratch_bytes(cls, shapes, n_classes, params) -> int:
        """The compiled loop keeps each sample of a batch's sources and their list (8 bytes each) for
        every layer's widest column count, per network, and counts every network as in flight (at
        most the job's threads are): a batch of the whole of MNIST's training set would need
        gigabytes, which the plan refuses with this estimate rather than the job running out."""
        widest = max(columns for _, columns in shapes)
        return params.get("batch_size", 1) * len(shapes) * widest * 16 * ed.n_networks(n_classes)

    def folds_first_layer(self):
        return self.paired_inputs and self.connected[0] is None

    def set_weights(self, weights):
        ed.check_layout(weights, self.n_inputs, self.hidden, self.k)
        from edbench.methods.ed import online_kernel  # here, not above: see ``edbench.methods``

        self.flat_layers, self.weights, self.weights_t = online_kernel.flatten(weights, self.dtype)
        n_layers = len(self.weights)
        self.cell_signs = [ed.cell_signs(i, n_layers, w.shape[1]).astype(self.dtype)
                           for i, w in enumerate(self.weights)]
        # Columns of excitatory and inhibitory sources: strided views where the signs alternate from +.
        self.source_kinds = []
        for index, w in enumerate(self.weights):
            signs = ed.layer_source_signs(index, w.shape[2])
            if np.array_equal(signs, np.tile([1.0, -1.0], len(signs) // 2)):
                self.source_kinds.append((slice(0, None, 2), slice(1, None, 2)))
            else:
                self.source_kinds.append((np.flatnonzero(signs > 0), np.flatnonzero(signs < 0)))
        # Exactly-zero weights are absent connections; keep a mask only where there are any.
        self.connected = [None if np.all(w != 0) else (w != 0) for w in self.weights]
        # The first layer's columns pair up (+, -) over one value each: its products fold in two.
        signs = ed.layer_source_signs(0, self.weights[0].shape[2])
        self.paired_inputs = bool(np.array_equal(signs, np.tile([1.0, -1.0], len(signs) // 2)))

    def get_weights(self):
        return [np.array(w, dtype=np.float64, order="C") for w in self.weights]

    @cached_property
    def settings(self) -> ed.Settings:
        """The rule's settings for the compiled loop (``online_kernel``), in the weights' type."""
        return ed.Settings.of(self.params, self.dtype.type)

    @property
    def gemm(self):
        from scipy.linalg import blas

        return blas.get_blas_funcs("gemm", dtype=self.dtype)

    def expand_inputs(self, x: np.ndarray) -> np.ndarray:
        """(B, 2 + 2n): the two bias cells, then every input value twice (its + and - cell)."""
        out = np.empty((len(x), 2 + 2 * x.shape[1]), dtype=self.dtype)
        out[:, :2] = self.params["beta"]
        out[:, 2::2] = x
        out[:, 3::2] = x
        return out

    def forward(self, first_sources: np.ndarray):
        """Run (B, columns) inputs from ``expand_inputs`` through every network; return per-layer
        sources and outputs."""
        beta, u0 = self.params["beta"], self.params["u0"]
        sources, outputs = [first_sources], []
        current = first_sources
        for index, w_t in enumerate(self.weights_t):
            if index == 0 and self.paired_inputs:
                u = self.first_layer_sums(current)
            else:
                u = np.matmul(current, w_t)                                   # (K, B, cells)
            o = ed.sigmoid(u, u0)
            outputs.append(o)
            if index < len(self.weights) - 1:
                current = np.empty((self.k, o.shape[1], 2 + o.shape[2]), dtype=self.dtype)
                current[:, :, :2] = beta
                current[:, :, 2:] = o
                sources.append(current)
        return sources, outputs

    def first_layer_sums(self, expanded: np.ndarray) -> np.ndarray:
        """(K, B, cells) sums of the first layer, folded: the two columns of a pair see one value, so
        x @ w+ + x @ w- is x @ (w+ + w-), over half the columns (equal up to rounding)."""
        w_t = self.weights_t[0]                                                     # (K, columns, cells)
        k, columns, cells = w_t.shape
        folded = np.empty((columns // 2, k, cells), dtype=self.dtype)
        np.add(w_t[:, 0::2].transpose(1, 0, 2), w_t[:, 1::2].transpose(1, 0, 2), out=folded)
        values = np.ascontiguousarray(expanded[:, 1::2])                            # (B, pairs), bias first
        u = values @ folded.reshape(columns // 2, k * cells)
        return u.reshape(len(values), k, cells).transpose(1, 0, 2)

    def learn_first_layer(self, src: np.ndarray, o: np.ndarray, error: np.ndarray) -> None:
        """The first layer's update over pairs of columns (needs no absent connections).

        Both columns of a pair see the value x, so each column's change is x^T @ gains over the
        samples that reach it. Faithful: the excitatory column gets s_m * d+ = e where e > 0, the
        inhibitory one s_m * d- = -(-e) = e where e < 0 (one of d+, d- is 0 for every sample), so
        each sample feeds one column of the pair: a quarter of the arithmetic of the product over
        both source kinds. Bidirectional: both columns get the same change, computed once."""
        p = self.params
        batch = error.shape[1]
        step = (p["alpha"] * p["u1"] if len(self.weights) > 1 else p["alpha"]) / batch
        w_t = self.weights_t[0]
        k, columns, cells = w_t.shape
        by_pair = w_t.reshape(k, columns // 2, 2, cells)
        values = np.ascontiguousarray(src[:, 1::2])                                 # (B, pairs)
        gains = o * (1 - o) * self.cell_signs[0] * (error[:, :, None] * step)        # (K, B, cells)
        for network in range(k):
            e = error[network]
            if self.params["rule"] == "faithful":
                for column, reached in ((0, e > 0), (1, e < 0)):
                    if reached.any():
                        by_pair[network, :, column] += values[reached].T @ gains[network][reached]
            else:
                change = values.T @ gains[network]
                by_pair[network, :, 0] += change
                by_pair[network, :, 1] += change

    def layer_change(self, index: int, src: np.ndarray, o: np.ndarray, error: np.ndarray,
                     connected: np.ndarray | None | str = "layer") -> np.ndarray:
        """The weight change of layer ``index`` (or of a stack of alike layers: leading axes broadcast).

        src is (..., K, B, columns) or (B, columns), o is (..., K, B, cells), error is (K, B).
        """
        p = self.params
        batch = error.shape[1]
        hidden = index != len(self.weights) - 1
        step = p["alpha"] * p["u1"] / batch if hidden else p["alpha"] / batch
        slope = o * (1 - o) * self.cell_signs[index]                                 # (..., K, B, cells)
        if p["rule"] == "faithful":
            # Excitatory sources learn from d+, inhibitory ones from d-, with sign s_m.
            excitatory, inhibitory = self.source_kinds[index]
            up = np.swapaxes(slope * np.maximum(error, 0)[:, :, None], -1, -2)
            down = np.swapaxes(slope * np.maximum(-error, 0)[:, :, None], -1, -2)
            change = np.empty(up.shape[:-1] + (src.shape[-1],), dtype=self.dtype)
            change[..., excitatory] = np.matmul(up, src[..., excitatory])
            change[..., inhibitory] = -np.matmul(down, src[..., inhibitory])
        else:
            change = np.matmul(np.swapaxes(slope * error[:, :, None], -1, -2), src)
        change *= step
        if isinstance(connected, str):
            connected = self.connected[index]
        if connected is not None:
            change *= connected
        return change

    def learn(self, sources, outputs, error: np.ndarray) -> None:
        """Apply one update from a minibatch; ``error`` is (K, B) = t - o."""
        for index, (w, src, o) in enumerate(zip(self.weights, sources, outputs)):
            if index == 0 and self.paired_inputs and self.connected[0] is None:
                self.learn_first_layer(src, o, error)
            elif self.connected[index] is None:
                self.accumulate_change(index, w, src, o, error)
            else:
                w += self.layer_change(index, src, o, error)

    def accumulate_change(self, index: int, w: np.ndarray, src: np.ndarray, o: np.ndarray,
                          error: np.ndarray) -> None:
        """``layer_change`` added into ``w`` by one BLAS gemm per network, with no weight-sized
        temporary: at small batches those temporaries, not the arithmetic, set the speed.

        Faithful: [slope*d+, -slope*d-] (cells, 2B) times [sources on excitatory columns;
        sources on inhibitory columns] (2B, columns), so one product covers both source kinds.
        """
        p = self.params
        batch = error.shape[1]
        hidden = index != len(self.weights) - 1
        step = p["alpha"] * p["u1"] / batch if hidden else p["alpha"] / batch
        slope = o * (1 - o) * self.cell_signs[index]                                 # (K, B, cells)
        if p["rule"] == "faithful":
            excitatory, inhibitory = self.source_kinds[index]
            gains = np.concatenate([slope * np.maximum(error, 0)[:, :, None],
                                    slope * -np.maximum(-error, 0)[:, :, None]], axis=1)   # (K, 2B, cells)
            stacked = np.zeros(src.shape[:-2] + (2 * batch, src.shape[-1]), dtype=self.dtype)
            stacked[..., :batch, excitatory] = src[..., excitatory]
            stacked[..., batch:, inhibitory] = src[..., inhibitory]
            src = stacked
        else:
            gains = slope * error[:, :, None]                                           # (K, B, cells)
        gemm = self.gemm
        for k in range(self.k):
            sources_k = src if src.ndim == 2 else src[k]
            # w[k] is Fortran-ordered (cells, columns): gemm adds into it in place
            result = gemm(step, gains[k].T, sources_k.T, beta=1.0, c=w[k], trans_b=1, overwrite_c=1)
            if not np.shares_memory(result, w[k]):
                w[k] = result

    def train_epoch(self, x, y):
        targets = ed.targets(y, self.n_classes).T.astype(self.dtype)                # (K, n)
        order = self.sample_order(len(y))
        return self.epoch(x, targets, order) / (len(y) * self.k)

    def epoch(self, x, targets, order) -> float:
        """One pass in ``order``; returns the summed |error|. Online and in minibatches alike it runs
        in the compiled loop over each sample's non-zero sources."""
        from edbench.methods.ed import online_kernel

        totals = online_kernel.sparse_epoch(self.flat_layers, self.samples(x, targets), order, self.settings,
                                            self.params["batch_size"])
        return float(totals.sum())

    def samples(self, x, targets):
        """``x``'s compressed rows (``nonzero_rows``) and the (K, n) targets, for the compiled loops,
        which visit them in each epoch's order."""
        from edbench.methods.ed import online_kernel

        return online_kernel.Samples(*self.nonzero_rows(x), np.ascontiguousarray(targets, dtype=self.dtype))

    def nonzero_rows(self, x):
        """``x``'s rows compressed to their non-zeros, in x's order. Inputs that cannot change (the
        runner's training set) are compressed once and kept for the next epochs: compressing reads
        every pixel, about a sixth of an online epoch of a 784-64-1 network; others, each call. The
        kept rows hold a reference to ``x``, so its memory is not reused while they are kept."""
        fixed = unchangeable(x)
        # The same values: one address, shape, strides and type (the speed table hands each epoch a
        # fresh view of one read-only set).
        if fixed and self._kept_rows is not None and self._kept_rows[0].__array_interface__ == x.__array_interface__:
            return self._kept_rows[1]
        from edbench.methods.ed import online_kernel

        rows = online_kernel.nonzero_rows(np.ascontiguousarray(x, dtype=self.dtype))
        self._kept_rows = (x, rows) if fixed else None
        return rows

    def minibatch_epoch(self, x, targets, order) -> float:
        batch = self.params["batch_size"]
        chunk = max(batch, self.chunk // batch * batch)  # whole minibatches, whatever the batch size
        total = 0.0
        for start in range(0, len(order), chunk):
            rows = order[start:start + chunk]
            expanded = self.expand_inputs(x[rows])
            for offset in range(0, len(rows), batch):
                part = slice(offset, offset + batch)
                sources, outputs = self.forward(expanded[part])
                error = targets[:, rows[part]] - outputs[-1][:, :, 0]
                self.learn(sources, outputs, error)
                total += float(np.abs(error).sum())
        return total

    def outputs(self, x):
        result = []
        for start in range(0, len(x), self.chunk):
            _, outputs = self.forward(self.expand_inputs(x[start:start + self.chunk].astype(self.dtype)))
            result.append(outputs[-1][:, :, 0].T)
        return np.concatenate(result)

    @classmethod
    def check_params(cls, given):
        params = super().check_params(given)
        if not (isinstance(params["batch_size"], int) and params["batch_size"] >= 1):
            raise ConfigError(f"method {cls.name!r}: batch_size must be a positive integer")
        return params


METHOD = EDMatrix
