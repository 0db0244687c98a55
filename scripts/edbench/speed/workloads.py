"""The runners the methods' own sides build: training epochs, whole protocols and finite-difference
gradients, each built from a seed so that two builds from one seed do the same work."""
from __future__ import annotations

import numpy as np

from edbench import methods
from edbench import threads as thread_settings
from edbench.methods.base import Work
from edbench.speed.comparison import Runner


def method_trainer(method: str, params: dict, x: np.ndarray, y: np.ndarray, n_classes: int):
    """One epoch over the first ``amount`` samples of (x, y) per run, on a method built once."""
    def build(seed, amount):
        learner = methods.get(method)(x.shape[1], n_classes, params, seed=seed)
        weights = learner.get_weights if hasattr(learner, "get_weights") else (
            lambda: [learner.state()[k] for k in sorted(learner.state())])
        return Runner(lambda: learner.train_epoch(x[:amount], y[:amount]), weights)
    return build


def numpy_minibatch_trainer(params: dict, x: np.ndarray, y: np.ndarray, n_classes: int):
    """ed_matrix's NumPy minibatch path (every input, zero or not, in batched products) for one
    epoch over the first ``amount`` samples, in order, per run: the dense baseline of its compiled
    minibatches."""
    from edbench.methods.ed import rule as ed

    def build(seed, amount):
        learner = methods.get("ed_matrix")(x.shape[1], n_classes, params, seed=seed)
        targets = ed.targets(y[:amount], n_classes).T.astype(learner.dtype)
        order = np.arange(amount)
        return Runner(lambda: learner.minibatch_epoch(x[:amount], targets, order), learner.get_weights)
    return build


def fresh_trainer(method: str, params: dict, x: np.ndarray, y: np.ndarray, n_classes: int):
    """``amount`` epochs on a freshly built method per run: a whole protocol, set-up included."""
    def build(seed, amount):
        state = {}

        def run():
            learner = methods.get(method)(x.shape[1], n_classes, params, seed=seed)
            for _ in range(amount):
                learner.train_epoch(x, y)
            state["learner"] = learner
        return Runner(run, lambda: [state["learner"].state()[k] for k in sorted(state["learner"].state())])
    return build


def fd_gradient(params: dict, sizes: list[int], x: np.ndarray, y: np.ndarray):
    """``amount`` gradients of the fd method at its initial weights on one batch per run."""
    def build(seed, amount):
        learner = methods.get("fd")(sizes[0], sizes[-1], {**params, "hidden": sizes[1:-1]}, seed=seed)
        out = {}

        def run():
            for _ in range(amount):
                grads, _ = learner.gradient(x, y)
            out["grads"] = [g.copy() for g in grads]
        return Runner(run, lambda: out["grads"])
    return build


def fd_gates(params: dict, problems):
    """``amount`` SGD iterations of each of the four gate networks per run (seed 001's program)."""
    def build(seed, amount):
        learners = [methods.get("fd")(2, 2, params, seed=seed) for _ in problems]

        def run():
            for learner, problem in zip(learners, problems):
                for _ in range(amount):
                    learner.train_epoch(problem.x_train, problem.y_train)
        return Runner(run, lambda: [w for learner in learners for w in learner.weights])
    return build


def on_numba_threads(threads: int, build):
    """A side whose work runs on ``threads`` numba threads, whatever the row's workload sets."""
    def wrapped(seed, amount):
        runner = build(seed, amount)

        def run():
            with thread_settings.numba_threads(threads):
                return runner.run()
        return Runner(run, runner.result)
    return wrapped


def work_per_sample(method: str, params: dict, x: np.ndarray, n_classes: int) -> Work:
    """The method's own least work per sample of training on inputs like ``x``
    (``LearningMethod.work_per_sample``), for a row whose candidate it is."""
    return methods.get(method)(x.shape[1], n_classes, params, seed=0).work_per_sample(x)
