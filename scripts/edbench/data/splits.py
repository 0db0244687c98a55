"""Which images of a data set a task trains and tests on (a budget's ``split``).

``first``: the training images and the test images as the files hold them, so a task's first N of
each are the first N in file order. The last ``validation_size`` of the training examples are held
out for validation.

``seed002``: seed 002's draw. Its article loads OpenML's ``mnist_784`` (MNIST's 60,000 training
images followed by its 10,000 test images), splits all 70,000 with scikit-learn's
``train_test_split(test_size=0.2, random_state=42)`` and keeps the first 1,000 of each side; its
PyTorch protocol then splits those training images again with ``train_test_split(test_size=0.1,
random_state=42)`` for validation. Here the training images followed by the test images are pooled
and split the same way, and a validation split is held out by the second draw.
"""
from __future__ import annotations

import math

import numpy as np

SPLITS = ("first", "seed002")
SEED002_TEST_FRACTION = 0.2
SEED002_RANDOM_STATE = 42
Side = tuple[np.ndarray, np.ndarray]


def check(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {list(SPLITS)}")


def shuffle_split(count: int, test_size: float | int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows scikit-learn's ``train_test_split(test_size=test_size, random_state=random_state)``
    puts on the training side and on the test side of ``count`` examples, in the order it puts them
    (``test_size``: a fraction of ``count``, or a number of examples)."""
    test_count = math.ceil(test_size * count) if isinstance(test_size, float) else test_size
    order = np.random.RandomState(random_state).permutation(count)
    return order[test_count:], order[:test_count]


def seed002_rows(train_count: int, test_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Seed 002's training and test rows of the pooled images (training images first)."""
    return shuffle_split(train_count + test_count, SEED002_TEST_FRACTION, SEED002_RANDOM_STATE)


def _pooled(arrays: dict[str, np.ndarray], rows: np.ndarray) -> Side:
    """Rows of the training images followed by the test images, gathered without copying the rest."""
    train_count = len(arrays["y_train"])
    from_train = rows < train_count
    gathered = []
    for kind in ("x", "y"):
        train, test = arrays[f"{kind}_train"], arrays[f"{kind}_test"]
        out = np.empty((len(rows), *train.shape[1:]), dtype=train.dtype)
        out[from_train] = train[rows[from_train]]
        out[~from_train] = test[rows[~from_train] - train_count]
        gathered.append(out)
    return gathered[0], gathered[1]


def sides(arrays: dict[str, np.ndarray], split: str) -> dict[str, Side]:
    """The (images, labels) of the training side and of the test side under ``split``."""
    check(split)
    if split == "first":
        return {side: (arrays[f"x_{side}"], arrays[f"y_{side}"]) for side in ("train", "test")}
    train_rows, test_rows = seed002_rows(len(arrays["y_train"]), len(arrays["y_test"]))
    return {"train": _pooled(arrays, train_rows), "test": _pooled(arrays, test_rows)}


def hold_out(x: np.ndarray, y: np.ndarray, size: int, split: str) -> tuple[Side, Side]:
    """(training, validation) of a task's training examples, ``size`` of them held out: the last
    ``size`` under ``first``; under ``seed002`` those the article's second ``train_test_split`` draws."""
    check(split)
    if split == "first":
        return (x[:-size], y[:-size]), (x[-size:], y[-size:])
    train_rows, validation_rows = shuffle_split(len(y), size, SEED002_RANDOM_STATE)
    return (x[train_rows], y[train_rows]), (x[validation_rows], y[validation_rows])
