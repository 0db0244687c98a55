"""Kaneko's XOR table: epochs until the summed |error| over the four patterns falls below 0.1.

Training is online, one pattern at a time in Kaneko's fixed order (00, 10, 01, 11), and the
error of an epoch is summed while it trains, as in Kaneko's program. A run that has not converged
after ``max_epochs`` is recorded as censored (``epochs`` empty). Every row records the settings it
ran with, so the reproduction table can check them against Kaneko's.
"""
from __future__ import annotations

import pandas as pd

from edbench import methods, tasks
from edbench.methods.ed import rule as ed

PROTOCOL_PARAMS = ("alpha", "beta", "u0", "u1", "init_max", "rule")


def _learner(method: str, hidden: int, seed: int, params: dict | None):
    return methods.get(method)(2, 2, {"hidden": [hidden], "shuffle": False, **(params or {})}, seed)


def settings_used(method: str, hidden: int, params: dict | None = None) -> dict:
    """The ED constants and the pattern order a run of ``method`` actually uses."""
    learner = _learner(method, hidden, 0, params)
    used = {key: learner.params[key] for key in PROTOCOL_PARAMS if key in learner.params}
    xor = tasks.gates_task().problems[3]
    used["pattern_order"] = " ".join("".join(str(int(v)) for v in row) for row in xor.x_train)
    used["first_hidden_cell"] = "excitatory" if ed.hidden_signs(1)[0] > 0 else "inhibitory"
    return used


def epochs_to_converge(method: str, hidden: int, seed: int, threshold: float, max_epochs: int,
                       params: dict | None = None) -> int | None:
    xor = tasks.gates_task().problems[3]
    learner = _learner(method, hidden, seed, params)
    for epoch in range(1, max_epochs + 1):
        summed_error = learner.train_epoch(xor.x_train, xor.y_train) * len(xor.y_train)
        if summed_error < threshold:
            return epoch
    return None


def table(settings: dict) -> pd.DataFrame:
    rows = []
    for hidden in settings["hidden"]:
        used = settings_used(settings["method"], hidden, settings.get("params"))
        for seed in range(settings["seeds"]):
            epochs = epochs_to_converge(settings["method"], hidden, seed, settings["threshold"],
                                        settings["max_epochs"], settings.get("params"))
            rows.append({"method": settings["method"], "hidden": hidden, "seed": seed, "epochs": epochs,
                         "converged": epochs is not None, "max_epochs": settings["max_epochs"],
                         "threshold": settings["threshold"], **used})
    return pd.DataFrame(rows)


def medians(frame: pd.DataFrame) -> pd.DataFrame:
    """Median epochs per size, counting censored runs as max_epochs + 1 (so the median is honest)."""
    filled = frame.assign(epochs=frame["epochs"].fillna(frame["max_epochs"] + 1))
    settings = [c for c in ("method", "threshold", "max_epochs", *PROTOCOL_PARAMS, "pattern_order",
                                    "first_hidden_cell") if c in frame]
    grouped = filled.groupby(["hidden", *settings], dropna=False)
    return pd.DataFrame({"median_epochs": grouped["epochs"].median(), "converged": grouped["converged"].sum(),
                         "seeds": grouped.size()}).reset_index()


DEFAULTS = {"method": "ed_matrix", "hidden": [8, 16, 32, 64, 128], "seeds": 10, "threshold": 0.1, "max_epochs": 1000}


def settings_from(config: dict) -> dict:
    return {**DEFAULTS, **config.get("xor_convergence", {})}


__all__ = ["table", "medians", "epochs_to_converge", "settings_from"]
