"""PyTorch reference: the same network, initial weights, minibatches and optimizer as bp_sgd/bp_adam.

``optimizer_path`` picks torch.optim's implementation: ``default`` (what ``torch.optim.Adam(params)``
runs on CPU, one tensor at a time), ``foreach`` (all tensors per operation) or ``fused`` (one compiled
kernel per tensor). All three follow bp_sgd/bp_adam's trajectory (tests/test_adam.py); ``fused`` is
the fastest on CPU here (`snakemake --cores 2 speed`), so it is the default. torch.compile was measured
and left out: compiling the loss took 13-28 s, and the compiled epoch was 11% slower at batch 32 and
7% faster at batch 512 (784-128-10, one thread).
"""
from __future__ import annotations

import warnings

import numpy as np

from edbench import threads
from edbench.maths import mlp
from edbench.methods.backprop import MLP_DEFAULTS, backprop_work, check_mlp_params
from edbench.methods.base import LearningMethod, check_choice, minibatches


class TorchMLP(LearningMethod):
    name = "torch"
    defaults = {**MLP_DEFAULTS, "optimizer": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                "optimizer_path": "fused"}
    optimizer_paths = ("default", "foreach", "fused")

    def __init__(self, n_inputs, n_classes, params, seed):
        torch = threads.torch()
        super().__init__(n_inputs, n_classes, params, seed)
        p = self.params
        self.torch = torch
        self.torch_dtype = torch.float32 if self.dtype == np.float32 else torch.float64
        sizes = mlp.layer_sizes(n_inputs, list(p["hidden"]), n_classes)
        layers = []
        for i, w in enumerate(mlp.xavier_init(sizes, self.init_rng, self.dtype)[::2]):
            linear = torch.nn.Linear(w.shape[0], w.shape[1], dtype=self.torch_dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
                linear.bias.zero_()
            layers.append(linear)
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU() if p["activation"] == "relu" else torch.nn.Sigmoid())
        self.model = torch.nn.Sequential(*layers)
        path = {} if p["optimizer_path"] == "default" else {p["optimizer_path"]: True}
        if p["optimizer"] == "adam":
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=p["lr"], betas=(p["beta1"], p["beta2"]),
                                              eps=p["eps"], **path)
        else:
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=p["lr"], **path)

    @classmethod
    def check_params(cls, given):
        params = check_mlp_params(cls.name, super().check_params(given))
        check_choice(cls.name, params, "optimizer", ("adam", "sgd"))
        check_choice(cls.name, params, "optimizer_path", cls.optimizer_paths)
        return params

    def train_epoch(self, x, y):
        torch = self.torch
        with warnings.catch_warnings():
            # The runner's training set is read-only; torch warns of that, though xt is only read.
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            xt = torch.from_numpy(np.ascontiguousarray(x, dtype=self.dtype))
        yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        total, count = 0.0, 0
        for batch in minibatches(len(y), self.params["batch_size"], self.order_rng):
            index = torch.from_numpy(batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(self.model(xt[index]), yt[index])
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(batch)
            count += len(batch)
        return total / count

    def work_per_sample(self, x):
        return backprop_work(mlp.layer_sizes(self.n_inputs, list(self.params["hidden"]), self.n_classes))

    def predict(self, x):
        with self.torch.no_grad():
            logits = self.model(self.torch.from_numpy(np.ascontiguousarray(x, dtype=self.dtype)))
        return logits.argmax(dim=1).numpy()

    def state(self):
        out = {}
        for i, module in enumerate(m for m in self.model if isinstance(m, self.torch.nn.Linear)):
            out[f"p{2 * i}"] = module.weight.detach().numpy().T.copy()
            out[f"p{2 * i + 1}"] = module.bias.detach().numpy().copy()
        return out


METHOD = TorchMLP
