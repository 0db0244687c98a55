"""The benchmark's tasks: logic gates, MNIST 0-vs-1, all ten digits, Fashion-MNIST's ten classes, and
scikit-learn's 8x8 Digits.

A task knows what data it needs (a data set it reads, or its own truth tables), its classes, the
resources a job of it is given, and builds its problems. A task is one or more supervised
problems: ``gates`` holds four (AND, OR, NAND, XOR), each trained as its own network; the image
tasks hold one. Which images a problem takes is the budget's ``split`` (``edbench.data.splits``):
by default the first N examples, chosen without randomness, so every method and seed sees the same
data. Pixels are scaled to [0, 1] from the range the arrays file records.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from edbench.data import splits
from edbench.methods.base import ConfigError

log = logging.getLogger("edbench.tasks")

# Kaneko's order: pattern i sets input s to bit s of i, so 00, 10, 01, 11 (his XOR table uses it).
GATE_INPUTS = np.array([[(i >> s) & 1 for s in range(2)] for i in range(4)], dtype=np.float64)
GATES = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "NAND": np.array([1, 1, 1, 0]),
    "XOR": np.array([0, 1, 1, 0]),
}


@dataclass
class Problem:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[1]


@dataclass
class ProblemSet:
    """A task's problems as built for one run."""
    name: str
    problems: list[Problem]

    @property
    def train_count(self) -> int:
        return sum(len(p.y_train) for p in self.problems)

    @property
    def test_count(self) -> int:
        return sum(len(p.y_test) for p in self.problems)


@dataclass(frozen=True)
class Task:
    """What every task states: its name, classes, and a job's default memory (MB) and time (minutes)."""
    name: str
    classes: tuple[int, ...]
    mem_mb: int
    runtime: int
    n_inputs: int

    reads_data: ClassVar[bool]
    own_data: ClassVar[dict | None] = None   # the record of the data a task holds itself, reading none

    def dataset(self, configured: str) -> str:
        """The data set a run of this task uses when the config lists ``configured``."""
        raise NotImplementedError

    def build(self, arrays: dict[str, np.ndarray] | None, train_size: int | None = None,
              test_size: int | None = None, validation_size: int = 0, split: str = "first") -> ProblemSet:
        raise NotImplementedError

    def check_sizes(self, train_size: int | None, validation_size: int) -> None:
        """Raise ConfigError if these sizes cannot make a run of this task."""

    def training_examples(self, train_size: int | None, validation_size: int) -> int | None:
        """The examples one problem trains on (None: as many as the data set holds)."""
        return None if train_size is None else train_size - validation_size


@dataclass(frozen=True)
class TruthTables(Task):
    """The four two-input logic gates, each its own problem, trained and scored on its whole table."""
    reads_data: ClassVar[bool] = False
    own_data: ClassVar[dict] = {"name": "truth_tables", "source": ["edbench.tasks"], "sha256": None,
                                "train_count": 16, "test_count": 16}

    def dataset(self, configured: str) -> str:
        return self.own_data["name"]

    def build(self, arrays=None, train_size=None, test_size=None, validation_size=0, split="first") -> ProblemSet:
        problems = [Problem(gate, GATE_INPUTS, targets, GATE_INPUTS, targets, len(self.classes))
                    for gate, targets in GATES.items()]
        return ProblemSet(self.name, problems)

    def check_sizes(self, train_size, validation_size) -> None:
        if validation_size:
            raise ConfigError("validation_size does not apply to the truth tables")

    def training_examples(self, train_size, validation_size) -> int:
        return len(GATE_INPUTS)


@dataclass(frozen=True)
class ImageClasses(Task):
    """Some classes of an MNIST-format data set: the configured one, or ``bound_dataset`` always."""
    bound_dataset: str | None = None
    reads_data: ClassVar[bool] = True

    def dataset(self, configured: str) -> str:
        return self.bound_dataset or configured

    def build(self, arrays, train_size=None, test_size=None, validation_size=0, split="first") -> ProblemSet:
        """The first ``train_size`` examples of the task's classes on the training side of ``split``
        and the first ``test_size`` on its test side; ``validation_size`` of the training examples are
        held out as a validation split (for choosing hyperparameters), never trained on."""
        if arrays is None:
            raise ValueError(f"task {self.name!r} needs a dataset")
        pixels = _pixel_range(arrays, self.name)
        taken = {}
        for side, (images, labels) in splits.sides(arrays, split).items():
            keep = np.isin(labels, self.classes)
            size = train_size if side == "train" else test_size
            taken[side] = _take(images[keep], labels[keep], size, f"{self.name} {side}", pixels)
        (x_train, y_train), validation = taken["train"], (None, None)
        if validation_size:
            if validation_size >= len(y_train):
                raise ValueError(f"{self.name}: validation_size {validation_size} leaves no training examples "
                                 f"(of {len(y_train)})")
            (x_train, y_train), validation = splits.hold_out(x_train, y_train, validation_size, split)
        problem = Problem(self.name, x_train, y_train, *taken["test"], n_classes=len(self.classes),
                          x_val=validation[0], y_val=validation[1])
        return ProblemSet(self.name, [problem])

    def check_sizes(self, train_size, validation_size) -> None:
        if validation_size and train_size is not None and validation_size >= train_size:
            raise ConfigError(f"validation_size {validation_size} leaves none of the {train_size} training "
                              f"examples to train on")


def _pixel_range(arrays: dict[str, np.ndarray], task: str) -> tuple[float, float]:
    if "pixel_range" not in arrays:
        raise ValueError(f"{task}: the arrays file records no pixel_range (an arrays file older than that "
                         f"record); delete resources/data/*.npz and rerun snakemake, which rebuilds them")
    low, high = (float(value) for value in arrays["pixel_range"])
    return low, high


def _take(x: np.ndarray, y: np.ndarray, size: int | None, what: str,
          pixels: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The first ``size`` examples (None: all), pixels scaled from their ``pixels`` range to [0, 1]."""
    if size is not None:
        if size > len(y):
            # The offline subset is smaller than full MNIST; results record the count actually used.
            log.warning("%s: %d examples requested, only %d available; using all of them", what, size, len(y))
        x, y = x[:size], y[:size]
    low, high = pixels
    return (x.astype(np.float64) - low) / (high - low), y.astype(np.int64)


# Default resources, sized from peak RSS measured on full MNIST (60,000/10,000), with headroom:
# ed_deep (512 layers of 4) on all of mnist10 2,057 MB, bp_adam on all of mnist10 975 MB, ed_deep
# on all of mnist01 754 MB. fashion10 reads an arrays file of the same size and trains on fewer
# examples. digits10's arrays are 150 KB: torch's 512 hidden cells peaked at 330 MB, and per-neuron
# ED, the slowest, trains about 70 images a second (30 epochs of 1,077 in 8 minutes). A config
# entry's mem_mb/runtime override these.
TASKS: dict[str, Task] = {task.name: task for task in (
    TruthTables("gates", (0, 1), mem_mb=1000, runtime=15, n_inputs=2),
    ImageClasses("mnist01", (0, 1), mem_mb=1500, runtime=60, n_inputs=784),
    ImageClasses("mnist10", tuple(range(10)), mem_mb=3000, runtime=240, n_inputs=784),
    ImageClasses("fashion10", tuple(range(10)), mem_mb=3000, runtime=240, n_inputs=784,
                 bound_dataset="fashion_mnist"),
    ImageClasses("digits10", tuple(range(10)), mem_mb=1000, runtime=60, n_inputs=64, bound_dataset="digits"),
)}


def get(name: str) -> Task:
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; known: {list(TASKS)}")
    return TASKS[name]


def build(name: str, arrays: dict[str, np.ndarray] | None, train_size=None, test_size=None,
          validation_size: int = 0, split: str = "first") -> ProblemSet:
    return get(name).build(arrays, train_size, test_size, validation_size or 0, split)


def gates_task() -> ProblemSet:
    return TASKS["gates"].build(None)
