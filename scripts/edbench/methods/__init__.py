"""The learning methods, each one module behind ``LearningMethod`` (``base``), and their registry.

Adding a method means adding its module and one line to ``REGISTRY``, then one entry under
``methods:`` in the config. A job imports only its own method's module, and so only the compiled
kernels or torch that method needs. Planning a workflow imports every configured method's module
to check its parameters, so a module imports its compiled kernels (numba) where it first builds
or trains a network, not at its top: numba's import alone took 0.2 s of each `snakemake`
start-up, which every invocation and every cluster job pays.
"""
from __future__ import annotations

import importlib

from edbench.methods.base import ConfigError, LearningMethod

REGISTRY = {
    "fd": "edbench.methods.fd",
    "bp_sgd": "edbench.methods.bp_sgd",
    "bp_adam": "edbench.methods.bp_adam",
    "torch": "edbench.methods.torch_ref",
    "ed_neuron": "edbench.methods.ed.neuron",
    "ed_matrix": "edbench.methods.ed.matrix",
    "ed_deep": "edbench.methods.ed.deep",
}


def get(name: str) -> type[LearningMethod]:
    if name not in REGISTRY:
        raise ConfigError(f"unknown method {name!r}; available: {available()}")
    method = importlib.import_module(REGISTRY[name]).METHOD
    if method.name != name:
        raise RuntimeError(f"{REGISTRY[name]} defines method {method.name!r}, registered as {name!r}")
    return method


def available() -> list[str]:
    return sorted(REGISTRY)
