"""Deep ED: matrix ED through many narrow hidden layers (seed 004: 512 layers of 2+2 cells).

The hidden layers after the first all have one shape, so they live in one stacked array, and
the whole stack runs in two compiled loops (numba) instead of a few NumPy calls per layer:
- forward, layer after layer, with the minibatch as the innermost, contiguous axis so the
  products and the sigmoid (through a vectorisable exp, ``edbench.maths.exp_kernel``) run as SIMD;
- learning, for the whole stack at once, since under ED a layer's change needs only its own
  inputs and outputs and the broadcast error.
The first layer is folded as in ``ed_matrix`` (its + and - columns see one value). The K
networks (one for 0-vs-1, ten for ten digits) are independent for a whole epoch: each runs first
layer to output and back in one compiled call (``deep_kernel.train_epoch``, the first layer over
the non-zero pixels only, compressed once for a training set that cannot change), the networks
spread over numba's threads in one parallel region per epoch, so nothing serial stands between
them. A last batch smaller than the rest, and a network whose first or output layer has an absent
connection to keep at 0, take the NumPy path: the inputs kept once per value, [beta, x]
(``expand_inputs``), one matrix product for all K networks, the output layer through
``ed_matrix``'s code. The rule and the weight layout are ``ed_matrix``'s; results agree with it
to rounding (tests/test_ed.py).
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from edbench import threads
from edbench.methods.ed import rule as ed
from edbench.methods.ed.matrix import EDMatrix


class EDDeep(EDMatrix):
    name = "ed_deep"
    defaults = {key: value for key, value in EDMatrix.defaults.items() if key != "hidden"}
    defaults.update({"depth": 512, "width": 4, "batch_size": 128, "alpha": 0.2})

    def skips_unmatched_columns(self):
        """Never: every batch size, 1 included, goes through ``epoch``'s minibatch path, which learns
        every column."""
        return False

    @classmethod
    def loop_scratch_bytes(cls, shapes, n_classes, params) -> int:
        return 0   # its own loops keep per-layer outputs only, counted with the activations

    def visits_nonzero_sources(self):
        """Not as ed_matrix's compiled loop does: its minibatches run its own forward and learn."""
        return False

    @staticmethod
    def hidden_widths(params):
        return [params["width"]] * params["depth"]

    def compiles_first_layer(self):
        return self.whole_network   # the whole epoch compiled: first layer over the non-zero pixels

    def set_weights(self, weights):
        super().set_weights(weights)
        width = self.hidden[0]
        middle = self.weights[1:-1]
        # C order whatever the layers' strides: numba compiles a kernel once per array layout, and
        # the stacked layers' own strides made it 'A', 'F' or 'C' by depth and number of networks.
        self.stack = (np.ascontiguousarray(middle, dtype=self.dtype) if middle
                      else np.zeros((0, self.k, width, 2 + width), dtype=self.dtype))
        # The list entries become views of the stack, so get_weights and the layout stay as ed_matrix's.
        self.weights[1:-1] = list(self.stack)
        masks = self.connected[1:-1]
        stack_connected = None if all(m is None for m in masks) else np.stack(
            [np.ones(self.stack.shape[1:], dtype=bool) if m is None else m for m in masks])
        from edbench.methods.ed import deep_kernel  # here, not above: see ``edbench.methods``

        self.deep_layers = deep_kernel.DeepLayers(self.weights_t[0], self.stack, self.weights[-1], stack_connected,
                                      self.cell_signs[0])
        # Folding the update needs every first-layer connection present (an absent one must stay 0).
        self.folded = self.paired_inputs and self.connected[0] is None
        # Each network's epoch in one compiled call, first layer to output, wherever no mask needs
        # keeping: faster than the BLAS first layer for one narrow network too (seed 004's
        # 784-(4x512)-1 on 512 mnist01 samples, medians of 9 interleaved: 8.7 -> 7.4 us a sample in
        # float64, 5.0 -> 4.6 in float32, still compressing the rows every epoch).
        self.whole_network = self.folded and self.connected[-1] is None

    @cached_property
    def settings(self) -> ed.Settings:
        """The rule's settings for the deep kernels, in float64: they convert them to the weights'
        type themselves."""
        return ed.Settings.of(self.params)

    def epoch(self, x, targets, order):
        # Every batch size, 1 included, goes through this class's forward and learn: the hidden
        # weights live in its own stack, not in the flat buffer ed_matrix's compiled loop reads.
        # BLAS stays on one thread: ed_deep spreads its networks, not its products, over threads
        # (numba), and OpenBLAS's threads, waiting between calls, took the cores numba's needed
        # (ten digits on two threads: five times the CPU time per batch).
        with threads.one_blas_thread():
            if not self.whole_network:
                return self.minibatch_epoch(x, targets, order)
            batch = self.params["batch_size"]
            whole = len(order) // batch * batch
            total = float(self.compiled_epoch(x, targets, order[:whole]).sum())
            if whole < len(order):   # a last, smaller batch takes the NumPy path
                total += self.minibatch_epoch(x, targets, order[whole:])
            return total

    def compiled_epoch(self, x, targets, order):
        """Whole batches in ``order`` through ``deep_kernel.train_epoch``: each network's epoch in
        one compiled call, the networks spread over numba's threads; the inputs as compressed rows
        (kept across epochs where they cannot change), so the first layer visits only non-zero
        pixels."""
        from edbench.methods.ed import deep_kernel

        return deep_kernel.train_epoch(self.deep_layers, self.samples(x, targets), order, self.settings,
                                       self.params["batch_size"])

    def expand_inputs(self, x):
        """Folded: (B, 1 + n), [beta, x], one column per pair of the first layer's columns (the
        two bias cells, then each input's + and - cell). Otherwise ed_matrix's (B, 2 + 2n)."""
        if not self.folded:
            return super().expand_inputs(x)
        out = np.empty((len(x), 1 + x.shape[1]), dtype=self.dtype)
        out[:, 0] = self.params["beta"]
        out[:, 1:] = x
        return out

    def forward(self, first_sources):
        beta, u0 = self.params["beta"], self.params["u0"]
        last_w = self.weights[-1]
        batch = len(first_sources)
        k, width = self.k, self.hidden[0]
        outputs = np.empty((len(self.stack) + 1, k, width, batch), dtype=self.dtype)
        first = outputs[0].reshape(k * width, batch)
        if self.folded:
            # (K * width, pairs) @ (pairs, B): every network's sums in one product, already in
            # the stack's (cells, samples) layout.
            w = self.weights[0]
            folded = (w[:, :, 0::2] + w[:, :, 1::2]).reshape(k * width, -1)
            np.matmul(folded, first_sources.T, out=first)
        else:
            first[...] = np.matmul(first_sources, self.weights_t[0]).transpose(0, 2, 1).reshape(k * width, batch)
        ed.sigmoid(first, u0, out=first)
        from edbench.methods.ed import deep_kernel

        deep_kernel.forward_stack(self.stack, outputs, beta, u0)
        last_sources = np.empty((self.k, batch, 2 + width), dtype=self.dtype)
        last_sources[..., :2] = beta
        last_sources[..., 2:] = outputs[-1].transpose(0, 2, 1)
        out = ed.sigmoid(np.matmul(last_sources, last_w.transpose(0, 2, 1)), u0)
        return (first_sources, last_sources), (outputs, out)

    def learn_first_layer(self, values, o, error):
        """The folded first-layer update (see ``EDMatrix.learn_first_layer``) for all K networks
        in one product: values (B, pairs), o (K, cells, B). Faithful: each sample's gain goes to
        the + column of its pair where e > 0 and to the - column where e < 0, 0 elsewhere."""
        p = self.params
        batch = error.shape[1]
        step = p["alpha"] * p["u1"] / batch
        k, columns, cells = self.weights_t[0].shape
        by_pair = self.weights_t[0].reshape(k, columns // 2, 2, cells)
        gains = o * (1 - o) * self.cell_signs[0][:, None] * (error[:, None, :] * step)   # (K, cells, B)
        if p["rule"] == "faithful":
            split = np.zeros((k, 2, cells, batch), dtype=self.dtype)
            np.copyto(split[:, 0], gains, where=(error > 0)[:, None, :])
            np.copyto(split[:, 1], gains, where=(error < 0)[:, None, :])
            change = (split.reshape(k * 2 * cells, batch) @ values).reshape(k, 2, cells, -1)
            by_pair += change.transpose(0, 3, 1, 2)
        else:
            change = (gains.reshape(k * cells, batch) @ values).reshape(k, 1, cells, -1)
            by_pair += change.transpose(0, 3, 1, 2)

    def learn(self, sources, outputs, error):
        first_sources, last_sources = sources
        stacked, out = outputs
        p = self.params
        last = len(self.weights) - 1
        if self.folded:
            self.learn_first_layer(first_sources, stacked[0], error)
        else:
            self.weights[0] += self.layer_change(0, first_sources, stacked[0].transpose(0, 2, 1), error)
        if len(self.stack):
            step = p["alpha"] * p["u1"] / error.shape[1]
            errors = np.stack([error, np.maximum(error, 0), np.maximum(-error, 0)])
            from edbench.methods.ed import deep_kernel

            deep_kernel.learn_stack(self.deep_layers, stacked, errors, self.settings, step)
        self.weights[last] += self.layer_change(last, last_sources, out, error)


METHOD = EDDeep
