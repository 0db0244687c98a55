"""The benchmark's tasks: logic gates, MNIST 0-vs-1, all ten digits, and Fashion-MNIST's ten classes.

A task is one or more supervised problems. ``gates`` holds four (AND, OR, NAND, XOR), each
trained as its own network; the MNIST tasks hold one. Subsets are chosen without randomness
(the first N examples), so every method and seed sees the same data.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger("edbench.tasks")

TASKS = ("gates", "mnist01", "mnist10", "fashion10")
TASK_CLASSES = {"mnist01": (0, 1), "mnist10": tuple(range(10)), "fashion10": tuple(range(10))}
# Tasks that always read one data set; the others run on each of the config's `datasets`.
BOUND_DATASET = {"fashion10": "fashion_mnist"}
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
class Task:
    name: str
    problems: list[Problem]

    @property
    def train_count(self) -> int:
        return sum(len(p.y_train) for p in self.problems)

    @property
    def test_count(self) -> int:
        return sum(len(p.y_test) for p in self.problems)


def gates_task() -> Task:
    problems = [Problem(name, GATE_INPUTS, targets, GATE_INPUTS, targets, 2) for name, targets in GATES.items()]
    return Task("gates", problems)


def _take(x: np.ndarray, y: np.ndarray, size: int | None, what: str) -> tuple[np.ndarray, np.ndarray]:
    if size is not None:
        if size > len(y):
            # The offline subset is smaller than full MNIST; results record the count actually used.
            log.warning("%s: %d examples requested, only %d available; using all of them", what, size, len(y))
        x, y = x[:size], y[:size]
    return (x.astype(np.float64) / 255.0), y.astype(np.int64)


def mnist_task(name: str, arrays: dict[str, np.ndarray], train_size: int | None = None,
               test_size: int | None = None, validation_size: int = 0) -> Task:
    """The first ``train_size`` examples of the task's classes; the last ``validation_size`` of them
    are held out as a validation split (for choosing hyperparameters), never trained on."""
    classes = TASK_CLASSES.get(name)
    if name not in TASK_CLASSES:
        raise ValueError(f"unknown task {name!r}; known: {list(TASKS)}")
    splits = {}
    for split, size in (("train", train_size), ("test", test_size)):
        labels = arrays[f"y_{split}"]
        keep = np.isin(labels, classes)
        splits[split] = _take(arrays[f"x_{split}"][keep], labels[keep], size, f"{name} {split}")
    x_train, y_train = splits["train"]
    x_val = y_val = None
    if validation_size:
        if validation_size >= len(y_train):
            raise ValueError(f"{name}: validation_size {validation_size} leaves no training examples "
                             f"(of {len(y_train)})")
        x_train, x_val = x_train[:-validation_size], x_train[-validation_size:]
        y_train, y_val = y_train[:-validation_size], y_train[-validation_size:]
    return Task(name, [Problem(name, x_train, y_train, *splits["test"], n_classes=len(classes), x_val=x_val,
                               y_val=y_val)])


def build(name: str, arrays: dict[str, np.ndarray] | None, train_size=None, test_size=None,
          validation_size: int = 0) -> Task:
    if name == "gates":
        return gates_task()
    if arrays is None:
        raise ValueError(f"task {name!r} needs a dataset")
    return mnist_task(name, arrays, train_size, test_size, validation_size or 0)
