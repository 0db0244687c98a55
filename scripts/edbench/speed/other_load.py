"""How much of the machine other work took while a block ran, so a timing disturbed by it is seen.

The machine's busy time (``/proc/stat``: every CPU's user, system, interrupt and, in a virtual
machine, steal time, the time the hypervisor gave to another guest) less this process's own CPU
time is the work of everything else: other processes, the kernel's threads, other guests. On a
shared 2-core machine one busy neighbour halves a 2-thread rate and leaves a 1-thread rate alone,
so a ratio of the two means nothing unless this is near zero. Linux only: elsewhere ``cores`` is
None ("not checked").
"""
from __future__ import annotations

import os
import time

STAT = "/proc/stat"


def busy_seconds(stat: str = STAT) -> float | None:
    """CPU seconds the machine has spent busy since boot, summed over its CPUs; None if unreadable."""
    try:
        with open(stat) as handle:
            fields = [int(value) for value in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    if len(fields) < 8:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def resolution_seconds() -> float:
    """What two reads of the tick-sampled counters can be off by: a tick per CPU per read."""
    return 2 * (os.cpu_count() or 1) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """``with OtherLoad() as load: ...``; then ``load.cores`` is the average number of cores other
    work kept busy during the block, and ``load.disturbed(limit)`` whether that exceeded ``limit``
    cores by more than the counters' resolution (None where not measured)."""

    def __init__(self, stat: str = STAT):
        self.stat = stat
        self.cores: float | None = None
        self.seconds = 0.0
        self.other_seconds: float | None = None

    def __enter__(self):
        self._busy = busy_seconds(self.stat)
        self._own = time.process_time()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        busy = busy_seconds(self.stat)
        self.seconds = time.perf_counter() - self._start
        if busy is None or self._busy is None or self.seconds <= 0:
            return
        self.other_seconds = max((busy - self._busy) - (time.process_time() - self._own), 0.0)
        self.cores = self.other_seconds / self.seconds

    def disturbed(self, limit: float) -> bool | None:
        if self.other_seconds is None:
            return None
        return self.other_seconds > limit * self.seconds + resolution_seconds()
