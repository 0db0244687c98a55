"""One training run, as the config expands it and as it travels to ``scripts/train.py``: ``RunSpec``.

A spec is built once (``edbench.config.expand``), is immutable, and crosses the command line as
JSON (``to_json``/``from_json``). Reading one checks its shape and names what is wrong, so a
malformed ``--spec`` stops with a message, not a traceback.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from edbench import methods, tasks
from edbench.data import splits
from edbench.methods.base import ConfigError

ROLES = ("protocol", "trial", "promoted", "winner")
# The JSON type of each key of a spec; a key whose default is None may also be null.
JSON_TYPES = {str: "a string", int: "a whole number", dict: "an object", list: "a list", (int, float): "a number",
              bool: "true or false"}
KEY_TYPES = {"dataset": str, "task": str, "entry": str, "method": str, "params": dict, "budget": dict, "seed": int,
             "threads": int, "role": str, "contestant": str, "trial": int, "trials": list, "targets": list,
             "capped": list, "mem_mb": int, "runtime": int, "stage": str, "rank": int, "space": dict,
             "chosen_for": str, "max_hidden_cells": int, "tie_margin": (int, float), "diagnose": bool,
             "weight_passes": (int, float)}


@dataclass(frozen=True)
class Budget:
    """What a run trains and scores on: ``epochs``, the first ``train_size`` and ``test_size`` examples
    (None: all), and ``validation_size`` of those training examples held out (None: none), the
    examples drawn by ``split`` (``edbench.data.splits``: by default the first in file order)."""
    epochs: int
    train_size: int | None = None
    test_size: int | None = None
    validation_size: int | None = None
    split: str = "first"

    @classmethod
    def from_dict(cls, given: dict, where: str = "budget") -> Budget:
        _check_keys(where, given, cls)
        for key, value in given.items():
            if key == "split":
                if value not in splits.SPLITS:
                    raise ConfigError(f"{where}: split {value!r} is not one of {list(splits.SPLITS)}")
                continue
            least = 1 if key == "epochs" else 0
            if not (isinstance(value, int) and value >= least) and not (value is None and key != "epochs"):
                raise ConfigError(f"{where}: {key} needs a whole number >= {least}, got {value!r}")
        return cls(**given)

    @classmethod
    def from_settings(cls, settings: dict) -> Budget:
        """The budget among a task's settings (which also hold a config task's ``when_available``, a
        race task's ``targets``)."""
        return cls.from_dict({f.name: settings[f.name] for f in dataclasses.fields(cls) if f.name in settings})

    def to_dict(self) -> dict:
        """As results record it (``config.task_params``): no validation_size where none is held out,
        no split where it is the first examples."""
        kept = {"train_size": self.train_size, "test_size": self.test_size, "epochs": self.epochs}
        if self.validation_size is not None:
            kept["validation_size"] = self.validation_size
        return kept if self.split == "first" else {**kept, "split": self.split}

    def overridden(self, changes: dict) -> Budget:
        return Budget.from_dict({**self.to_dict(), **changes})

    @property
    def held_out(self) -> int:
        """The training examples held out for validation (0 where none are)."""
        return self.validation_size or 0


@dataclass(frozen=True)
class RunSpec:
    """One training run: what trains (method and params), on what (data set, task, budget), with
    which seed and threads, in which role (a protocol run, a race trial or a race winner), and the
    resources the scheduler gives its job (None: the task's default)."""
    dataset: str
    task: str
    entry: str
    method: str
    params: dict[str, Any]
    budget: Budget
    seed: int
    threads: int
    role: str = "protocol"
    contestant: str | None = None
    trial: int | None = None
    trials: tuple[str, ...] = ()      # a winner's: the result files of the trials it is chosen from
    targets: tuple[float, ...] = ()   # a winner's: validation accuracies whose first reaching is timed
    capped: tuple[str, ...] = ()      # budget keys this contestant runs below the race's budget
    stage: str | None = None          # a race run's budget: its name in the race's budgets (short, long)
    rank: int | None = None           # a promoted run's: the place, on validation, of the trial it trains
    space: dict[str, Any] | None = None   # a race run's search space, for the edge flags of its choice
    chosen_for: str | None = None     # the method whose eligibility a choice applies, where another trains
    max_hidden_cells: int | None = None   # a choice offers no trial with more hidden cells than this
    tie_margin: float = 0.0           # validation accuracies this close count as a tie (race.choice)
    diagnose: bool = False            # record the method's diagnostics before and after training
    weight_passes: float | None = None   # a compute budget that sets the epochs (runner.compute_epochs)
    mem_mb: int | None = None
    runtime: int | None = None

    @property
    def scores_test(self) -> bool:
        """A trial or a promoted trial scores the validation split only: a choice made on it must not
        see test labels."""
        return self.role not in ("trial", "promoted")

    @property
    def where(self) -> str:
        """The config key this run comes from, for error messages."""
        if self.contestant is not None:
            which = self.role if self.trial is None else f"trial {self.trial}"
            return f"race.contestants.{self.contestant} ({which})"
        return f"methods.{self.entry}"

    def result_path(self, root: str = "results/runs") -> str:
        return f"{root}/{self.dataset}/{self.task}/{self.entry}/seed{self.seed}.json"

    def replace(self, **changes) -> RunSpec:
        return dataclasses.replace(self, **changes)

    def check(self) -> None:
        """Raise ConfigError, naming the config key, if this run cannot run: unknown method or task,
        bad params, or sizes that leave too few examples."""
        try:
            method_cls = methods.get(self.method)
        except ConfigError as error:
            raise ConfigError(f"config key '{self.where}.method': {error}") from None
        try:
            method_cls.check_params(self.params)
            task = tasks.get(self.task)
            task.check_sizes(self.budget.train_size, self.budget.held_out)
        except ConfigError as error:
            raise ConfigError(f"config key '{self.where}' on task {self.task}: {error}") from None
        estimate = method_cls.estimated_bytes(task.n_inputs, len(task.classes), self.params)
        mem_mb = self.mem_mb or task.mem_mb
        if estimate is not None and estimate > mem_mb * 2 ** 20:
            raise ConfigError(f"config key '{self.where}.params' on task {self.task}: this network needs at least "
                              f"about {estimate / 2 ** 30:.1f} GiB (estimated from its shapes), more than the "
                              f"{mem_mb} MB its job is given (mem_mb); make it smaller or give the entry more mem_mb")
        batch = self.params.get("batch_size", method_cls.defaults.get("batch_size"))
        limit = task.training_examples(self.budget.train_size, self.budget.held_out)
        if batch is not None and limit is not None and batch > limit:
            raise ConfigError(f"config key '{self.where}' on task {self.task}: batch_size {batch} is larger than "
                              f"the {limit} training examples")

    def to_dict(self) -> dict:
        given = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {**given, "budget": self.budget.to_dict(), "trials": list(self.trials), "targets": list(self.targets),
                "capped": list(self.capped)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, given: Any) -> RunSpec:
        """The spec ``given`` describes; raises ConfigError naming a missing, unknown or ill-typed key."""
        if not isinstance(given, dict):
            raise ConfigError(f"a run spec is a JSON object, got {type(given).__name__}")
        _check_keys("run spec", given, cls)
        nullable = {f.name for f in dataclasses.fields(cls) if f.default is None}
        for key, value in given.items():
            kind = KEY_TYPES[key]
            if not isinstance(value, kind) and not (value is None and key in nullable):
                raise ConfigError(f"run spec key '{key}': needs {JSON_TYPES[kind]}"
                                  f"{' or null' if key in nullable else ''}, got {value!r}")
        if given.get("role", "protocol") not in ROLES:
            raise ConfigError(f"run spec key 'role': one of {list(ROLES)}, got {given['role']!r}")
        if given["task"] not in tasks.TASKS:
            raise ConfigError(f"run spec key 'task': unknown task {given['task']!r}; known: {list(tasks.TASKS)}")
        sequences = {key: tuple(given[key]) for key in ("trials", "targets", "capped") if key in given}
        return cls(**{**given, **sequences, "budget": Budget.from_dict(given["budget"], "run spec key 'budget'")})

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        try:
            given = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"not valid JSON ({error})") from None
        return cls.from_dict(given)


def _check_keys(where: str, given: dict, cls) -> None:
    """Raise ConfigError unless ``given`` holds every field of dataclass ``cls`` without a default, and no
    key that is not a field."""
    fields = dataclasses.fields(cls)
    unknown = sorted(set(given) - {f.name for f in fields})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(f.name for f in fields)}")
    missing = sorted(f.name for f in fields if f.default is dataclasses.MISSING and f.name not in given)
    if missing:
        raise ConfigError(f"{where}: missing key(s) {missing}")

