"""What every ED method shares: parameters, targets, the epoch loop and the weight layout."""
from __future__ import annotations

import numpy as np

from edbench.methods.base import ConfigError, LearningMethod, check_choice
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

    def get_weights(self) -> list[np.ndarray]:
        """Weights in the layout documented in ``edbench.ed`` (copies)."""
        raise NotImplementedError

    def set_weights(self, weights: list[np.ndarray]) -> None:
        raise NotImplementedError

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """(n, K) output-cell values."""
        raise NotImplementedError

    def predict(self, x):
        return ed.decide(self.outputs(x), self.n_classes)

    def state(self):
        return {f"layer{i}": w for i, w in enumerate(self.get_weights())}

    def sample_order(self, n: int) -> np.ndarray:
        return self.order_rng.permutation(n) if self.params["shuffle"] else np.arange(n)
