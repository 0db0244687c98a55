"""The one interface every learning method implements, and the helpers they share."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

WARM_UP_EXAMPLES = 4


class ConfigError(ValueError):
    """A method, task or dataset configuration that cannot be run; the message names the key."""


@dataclass(frozen=True)
class Work:
    """The least a method's algorithm must do per training sample: what the speed benchmark's
    roofline divides by the machine's limits to bound the method's rate."""
    arithmetic: float        # floating-point operations
    traffic: float = 0.0     # bytes read and written to memory
    # Of the traffic, the bytes of values read and written back in place (a learning weight's
    # update): they stream at the machine's read-modify-write rate, below its read rate.
    rewritten: float = 0.0
    exps: float = 0.0        # sigmoids through the vectorised exp (exp, then 1 / (1 + e))
    working_set: float = 0.0  # bytes of the arrays that traffic streams over
    scalar_sigmoids: float = 0.0  # sigmoids one at a time through the C library's tanh
    # Of the arithmetic's multiply-adds (2 flops each), those rounded apart, a multiply and then an
    # add, as code that must match another's rounding to the bit runs them: slower than fused ones.
    separate_multiply_adds: float = 0.0
    # The working set's independent parts that a thread streams over one whole part at a time (ED's
    # networks, where each network trains its whole epoch before the next): a thread's traffic then
    # stays within one part, not the whole set.
    parts: int = 1

    def streamed_set(self, threads: int) -> float:
        """The bytes that ``threads`` threads stream over at once: the working set, or where it is
        taken part by part, one part per thread."""
        return self.working_set / self.parts * min(threads, self.parts)


def unchangeable(x: np.ndarray) -> bool:
    """Whether no one can write to ``x``'s values: it and every array it views are read-only."""
    array = x
    while isinstance(array, np.ndarray):
        if array.flags.writeable:
            return False
        array = array.base
    return True


class LearningMethod:
    """A learning rule bound to one network.

    A method is built for a problem's shape, then the runner calls ``train_epoch`` once per
    epoch and ``predict`` to score. ``state`` exposes the learned arrays so results can be
    checked for divergence and compared across implementations.
    """

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, n_inputs: int, n_classes: int, params: dict[str, Any], seed: int):
        self.params = self.check_params(params)
        self.n_inputs = n_inputs
        self.n_classes = n_classes
        self.seed = seed
        self.dtype = np.dtype(self.params.get("dtype", "float64"))
        self.init_rng = np.random.default_rng([seed, 0])
        self.order_rng = np.random.default_rng([seed, 1])

    @classmethod
    def check_params(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults merged with ``given``; raises ConfigError naming a bad key. Runs before any job."""
        return resolve_params(cls.name, cls.defaults, given)

    def train_epoch(self, x: np.ndarray, y: np.ndarray) -> float:
        """One pass over (x, y); returns the mean training loss of the pass. What a method derives
        from inputs that cannot change (``unchangeable``: the runner hands its training set over
        read-only) it may keep for the next epoch."""
        raise NotImplementedError

    def predict(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    @classmethod
    def hidden_cells(cls, params: dict[str, Any]) -> int:
        """The hidden cells of a setting, summed over its layers (what a cost limit on a race's
        shared trials counts)."""
        return sum(params.get("hidden", []))

    def diagnostics(self, x: np.ndarray) -> dict[str, float]:
        """Measures of the network's state on inputs ``x`` that a study records at its start and end
        (none by default)."""
        return {}

    @classmethod
    def estimated_bytes(cls, n_inputs: int, n_classes: int, params: dict[str, Any]) -> int | None:
        """A rough lower estimate of the memory a run of these params holds (weights, their updates'
        state, a batch's activations), computed from shapes alone so that a plan can refuse a network
        that cannot fit before any job allocates it; None where the method gives none."""
        return None

    def work_per_sample(self, x: np.ndarray) -> Work:
        """The least work per sample of training on inputs like ``x`` (for the speed benchmark)."""
        raise NotImplementedError(f"method {self.name!r} does not state its work per sample")

    def warm_up(self, x: np.ndarray, y: np.ndarray) -> None:
        """Pay the one-time costs (numba compilation or cache load, first-call set-up) before timing.

        Trains and scores a throwaway twin on a few examples of the same dtype and layout, so the
        compiled code is specialised for the real call; this method's weights and random streams
        are not touched, and results stay bit-identical with or without a warm-up.
        """
        twin = type(self)(self.n_inputs, self.n_classes, self.params, self.seed)
        few = slice(0, WARM_UP_EXAMPLES)
        twin.train_epoch(x[few], y[few])
        twin.predict(x[few])


def resolve_params(method: str, defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ConfigError(f"method {method!r}: unknown parameter(s) {unknown}; allowed: {sorted(defaults)}")
    params = {**defaults, **given}
    if "dtype" in params and params["dtype"] not in ("float32", "float64"):
        raise ConfigError(f"method {method!r}: dtype must be 'float32' or 'float64', got {params['dtype']!r}")
    for key in ("lr", "alpha", "eps"):
        if key in params and not (isinstance(params[key], (int, float)) and params[key] > 0):
            raise ConfigError(f"method {method!r}: {key} must be a positive number, got {params[key]!r}")
    if "batch_size" in params and not (isinstance(params["batch_size"], int) and params["batch_size"] >= 1):
        raise ConfigError(f"method {method!r}: batch_size must be a positive integer, got {params['batch_size']!r}")
    return params


def check_choice(method: str, params: dict[str, Any], key: str, allowed) -> None:
    if params[key] not in allowed:
        raise ConfigError(f"method {method!r}: {key} must be one of {list(allowed)}, got {params[key]!r}")


def minibatches(n: int, batch_size: int, rng: np.random.Generator, shuffle: bool = True):
    """Index arrays of each minibatch of one epoch; the last one may be short."""
    order = rng.permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]
