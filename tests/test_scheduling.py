"""edbench.scheduling: Snakemake's re-selection timers kept to one pending at a time, as daemons."""
import threading
import time

import pytest

from edbench import scheduling


class FakeScheduler:
    """The two things the timer method touches: a semaphore the main loop waits on, and the method."""

    def __init__(self):
        self._open_jobs = threading.Semaphore(0)

    def _schedule_reevalutation(self, delay):   # Snakemake's own: a new non-daemon timer every time
        threading.Timer(delay, self._open_jobs.release).start()


def passes_asked(scheduler, calls, delay=0.2):
    """How many passes ``calls`` back-to-back requests ask for once their timers have fired."""
    for _ in range(calls):
        scheduler._schedule_reevalutation(delay)
    time.sleep(delay + 0.3)
    count = 0
    while scheduler._open_jobs.acquire(blocking=False):
        count += 1
    return count


def test_snakemakes_own_timers_multiply_and_the_kept_one_does_not():
    class Patched(FakeScheduler):
        pass

    assert passes_asked(FakeScheduler(), 5) == 5
    assert scheduling.keep_one_reevaluation_timer(Patched) and scheduling.is_kept_to_one(Patched)
    assert not scheduling.is_kept_to_one(FakeScheduler)
    patched = Patched()
    assert passes_asked(patched, 5) == 1
    assert patched._edbench_reevaluation.daemon      # a finished run does not wait for it
    assert passes_asked(patched, 1) == 1             # once it has fired, the next request gets a timer


def test_a_scheduler_without_the_method_is_left_alone():
    class Other:
        pass

    assert not scheduling.keep_one_reevaluation_timer(Other)
    assert not hasattr(Other, scheduling.METHOD)


def test_the_installed_snakemake_has_the_method():
    """The workflow changes Snakemake's JobScheduler; if a Snakemake upgrade renames the method, this
    fails (the workflow itself only warns)."""
    pytest.importorskip("snakemake")
    from snakemake.scheduling.job_scheduler import JobScheduler

    assert callable(getattr(JobScheduler, scheduling.METHOD, None))
