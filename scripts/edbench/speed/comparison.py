"""What one row of the speed table declares: the workload both sides run, the two implementations,
the least work per unit the candidate must do, and how their results must agree. Every field is
named where a comparison is written (``catalog``), and nothing here runs."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from edbench.methods.base import Work


@dataclass(frozen=True, kw_only=True)
class Workload:
    """What both sides run, in the columns a claim's protocol is compared with."""
    dataset: str            # data actually used (the speed npz's name, or truth_tables)
    task: str               # gates, mnist01, mnist10
    network: str            # layer sizes, e.g. 784-128-10
    activation: str
    samples: int            # training examples per epoch (per gradient, for gradient rows)
    epochs: int             # epochs (iterations, for seed 001) the reported seconds stand for
    batch_size: int
    threads: int
    dtype: str
    scheme: str = ""        # candidate's finite-difference scheme or ED rule
    baseline_scheme: str = ""
    optimizer: str = ""
    unit: str = "samples"   # what the rates count


@dataclass
class Runner:
    """A built side: ``run()`` does its timed work, ``result()`` gives the arrays to compare."""
    run: Callable[[], object]
    result: Callable[[], list]


@dataclass(frozen=True, kw_only=True)
class Implementation:
    """One side: ``build(seed, amount)`` gives a ``Runner`` whose ``run()`` does ``amount`` units of
    work (the timed unit) and whose ``result()`` gives the arrays both sides must agree on."""
    name: str
    build: Callable[[int, int], Runner]
    amount: int             # per timed run
    work_per_amount: float = 1.0


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """One row: the candidate timed against the baseline on the workload, and checked against it."""
    name: str
    workload: Workload
    baseline: Implementation
    candidate: Implementation
    work: Work                          # the least the candidate's algorithm must do per unit of the workload
    tolerance: float | None             # None: same_result is not checked
    check: str = ""                     # what is compared, and how
    check_amount: int = 1               # work each side runs, from one seed, for the check
    difference: str = "relative"        # "relative" (norm) or "max_abs"
    floor: float | None = None
    repeats: str = "repeats"            # the settings key giving the number of timed rounds
    warmup: int = 1
    extra: dict = field(default_factory=dict)
    baseline_arithmetic_per_unit: float | None = None   # the baseline's own count, if it does other work
    arithmetic_model: str = ""          # which count each of the gflops columns uses
