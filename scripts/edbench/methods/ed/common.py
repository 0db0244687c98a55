"""What every ED method shares: parameters, targets, the epoch loop and the weight layout."""
from __future__ import annotations

import numpy as np

from edbench.methods.base import ConfigError, LearningMethod, Work, check_choice
from edbench.methods.ed import rule as ed


class EDMethod(LearningMethod):
    defaults = dict(ed.ED_DEFAULTS)

    def __init__(self, n_inputs, n_classes, params, seed):
        super().__init__(n_inputs, n_classes, params, seed)
        self.hidden = self.hidden_widths(self.params)
        self.k = ed.n_networks(n_classes)
        self.set_weights(ed.initial_weights(n_inputs, self.hidden, self.k, self.init_rng, self.params["init_max"]))

    @staticmethod
    def hidden_widths(params) -> list[int]:
        return list(params["hidden"])

    @classmethod
    def check_params(cls, given):
        params = super().check_params(given)
        check_choice(cls.name, params, "rule", ed.RULES)
        hidden = cls.hidden_widths(params)
        if not (hidden and all(isinstance(h, int) and h >= 1 for h in hidden)):
            raise ConfigError(f"method {cls.name!r}: hidden layers must be a non-empty list of positive integers, "
                              f"got {hidden!r}")
        for key in ("beta", "u0", "u1", "init_max"):
            if not (isinstance(params[key], (int, float)) and params[key] > 0):
                raise ConfigError(f"method {cls.name!r}: {key} must be a positive number, got {params[key]!r}")
        return params

    # Arrays the set-up holds per weight at once: the float64 draw, its signed copy and the method's own.
    copies_per_weight = 3

    @classmethod
    def estimated_bytes(cls, n_inputs, n_classes, params):
        params = cls.check_params(params)
        shapes = ed.layer_shapes(n_inputs, cls.hidden_widths(params))
        weights = ed.n_networks(n_classes) * sum(cells * columns for cells, columns in shapes)
        activations = params.get("batch_size", 1) * ed.n_networks(n_classes) * sum(cells for cells, _ in shapes)
        return int(np.dtype(np.float64).itemsize * (cls.copies_per_weight * weights + 2 * activations)
                   + cls.loop_scratch_bytes(shapes, n_classes, params))

    @classmethod
    def loop_scratch_bytes(cls, shapes, n_classes, params) -> int:
        """Bytes the training loop holds per batch beyond the weights and activations (none here)."""
        return 0

    def get_weights(self) -> list[np.ndarray]:
        """Weights in the layout documented in ``rule`` (copies)."""
        raise NotImplementedError

    def set_weights(self, weights: list[np.ndarray]) -> None:
        raise NotImplementedError

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """(n, K) output-cell values."""
        raise NotImplementedError

    def predict(self, x):
        return ed.decide(self.outputs(x), self.n_classes)

    def diagnostics(self, x):
        """Whether the inputs reach the output: the spread (standard deviation over the samples ``x``)
        of each network's output cell, its median over networks, and the fraction of networks whose
        output no longer depends on the input at all (spread below 1e-6)."""
        spread = self.outputs(x).std(axis=0)
        return {"output_spread": float(np.median(spread)), "constant_networks": float(np.mean(spread < 1e-6))}

    def state(self):
        return {f"layer{i}": w for i, w in enumerate(self.get_weights())}

    def skips_unmatched_columns(self) -> bool:
        """Online, under the faithful rule, does the method skip the columns whose change is exactly
        0 (one of d+, d- is 0 for every sample: the sources of the other sign)?"""
        return False

    def folds_first_layer(self) -> bool:
        """Does a minibatch fold the first layer's +/- column pairs (they see one value) into one?"""
        return False

    def visits_nonzero_sources(self) -> bool:
        """Do minibatches, like online training, visit only each sample's non-zero sources (the
        compiled loop), rather than every input in batched products (the NumPy path)?"""
        return False

    def compiles_first_layer(self) -> bool:
        """Does a minibatch that otherwise counts as the NumPy path run its folded first layer and its
        output cell in a compiled loop, over the non-zero pixels and with scalar sigmoids?"""
        return False

    def work_per_sample(self, x: np.ndarray) -> Work:
        """Arithmetic, memory traffic and exponentials per sample that ED must do.

        Over the non-zero sources (online, and a method's compiled minibatches): only the weights of
        non-zero sources are touched: each is read for the forward sum (2 flops), and a weight that
        learns is read and written again (4 flops). A method that skips unmatched columns learns
        half of them, since signs alternate. A compiled minibatch folds the first layer's column
        pairs once per batch (1 flop and 3 values moved per pair and cell) and sums over the folded
        weights, one per active pair and cell.

        The NumPy minibatch path reads and writes every weight once per batch and does the
        arithmetic per sample: 2 flops per weight forward, and for learning 4 (faithful: the product
        covers the excitatory and the inhibitory sources on 2B rows) or 2 (bidirectional). A folded
        first layer is read over half its columns (x @ (w+ + w-), the folded weights written and
        read once per batch), and its update feeds one column of a pair (faithful) or one change
        serves both (bidirectional), 2 flops per pair: 2 flops per first-layer weight and sample in
        all, where it was 6 (faithful); where the first layer runs compiled, 2 flops forward and 2 to
        learn per cell and active pair, plus the fold once per batch. A learning weight's read and
        write are ``rewritten`` bytes: an update in place, which streams slower than a read. The
        working set is the bytes of all the weights; where a compiled loop trains each network's
        whole epoch before the next, its parts are the networks (a thread streams over one network's
        weights at a time). One sigmoid per cell: scalar (the C library's tanh) in the compiled loop
        online and in ``ed_deep``'s compiled first layer and output cell, vectorised exps elsewhere.

        The compiled loop's forward sums round each multiply and add apart (``separate_multiply_adds``:
        one per weight it reads), online so that the weights match ``ed_neuron``'s to the bit; its
        minibatches fuse the first layer's where its cells are a vector width (16, 32 or 64), and a
        one-cell layer's.
        ``ed_deep``'s compiled first layer rounds apart too, forward and in summing its changes. A
        learning weight's w + (g * x) * step, two multiplies and an add, takes as long as the two
        fused multiply-adds its 4 flops count, whether or not the add is fused."""
        weights = self.get_weights()
        itemsize = self.dtype.itemsize
        cells = sum(w.shape[0] * w.shape[1] for w in weights)
        batch = self.params["batch_size"]
        # The compiled loop online computes each cell's sigmoid with the C library's tanh, one at a
        # time (bit for bit ed_neuron's); its minibatches, the NumPy path and ed_deep's stack through
        # vectorised exps.
        sigmoids = {"scalar_sigmoids": cells} if self.visits_nonzero_sources() and batch == 1 else {"exps": cells}
        weight_bytes = itemsize * sum(w.size for w in weights)
        parts = self.k if (self.visits_nonzero_sources() or self.compiles_first_layer()) else 1
        faithful = self.params["rule"] == "faithful"
        first_cells, pairs = weights[0].shape[0] * weights[0].shape[1], weights[0].shape[2] // 2
        active_pairs = 1 + float(np.count_nonzero(x)) / len(x)    # the bias pair and non-zero pixels
        if batch == 1 or self.visits_nonzero_sources():
            rest = sum(w.size for w in weights[1:])
            share = 0.5 if (self.skips_unmatched_columns() and faithful) else 1.0
            learned = share * (2 * first_cells * active_pairs + rest)
            if batch == 1:
                touched = 2 * first_cells * active_pairs + rest
                return Work(2 * touched + 4 * learned, itemsize * (touched + 2 * learned),
                            rewritten=itemsize * 2 * learned, working_set=weight_bytes, parts=parts,
                            separate_multiply_adds=touched, **sigmoids)
            touched = first_cells * active_pairs + rest
            folding = first_cells * pairs / batch
            from edbench.methods.ed.vector_kernel import VECTOR_WIDTHS  # here: planning imports no numba

            # A one-cell layer (the output) sums in any order, fused; wider layers after the first apart.
            separate = sum(w.size for w in weights[1:] if w.shape[1] > 1)
            if weights[0].shape[1] not in VECTOR_WIDTHS:
                separate += first_cells * active_pairs
            return Work(2 * touched + 4 * learned + folding, itemsize * (touched + 2 * learned + 3 * folding),
                        rewritten=itemsize * 2 * learned, working_set=weight_bytes, parts=parts,
                        separate_multiply_adds=separate, **sigmoids)
        per_weight = 6 if faithful else 4
        first, rest = weights[0].size, sum(w.size for w in weights[1:])
        if self.folds_first_layer():
            first_flops, separate = 2 * first, 0.0
            if self.compiles_first_layer():
                first_flops = 4 * first_cells * active_pairs + first_cells * pairs / batch
                separate = 2 * first_cells * active_pairs
                scalar = first_cells + self.k
                sigmoids = {"exps": cells - scalar, "scalar_sigmoids": scalar}
            return Work(first_flops + per_weight * rest, itemsize * (4 * first + 3 * rest) / batch,
                        rewritten=itemsize * 2 * (first + rest) / batch, working_set=weight_bytes, parts=parts,
                        separate_multiply_adds=separate, **sigmoids)
        total = first + rest
        return Work(per_weight * total, 3 * itemsize * total / batch, rewritten=2 * itemsize * total / batch,
                    working_set=weight_bytes, parts=parts, **sigmoids)

    def sample_order(self, n: int) -> np.ndarray:
        return self.order_rng.permutation(n) if self.params["shuffle"] else np.arange(n)
