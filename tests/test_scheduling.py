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


class Patched(FakeScheduler):
    pass


scheduling.keep_one_reevaluation_timer(Patched)


def test_snakemakes_own_timers_multiply_and_the_kept_one_does_not():
    assert passes_asked(FakeScheduler(), 5) == 5
    assert scheduling.is_kept_to_one(Patched) and not scheduling.is_kept_to_one(FakeScheduler)
    patched = Patched()
    threads_before = {t.ident for t in threading.enumerate()}
    patched._schedule_reevalutation(0.2)
    timers = [t for t in threading.enumerate() if t.ident not in threads_before]
    assert timers and all(t.daemon for t in timers)   # a finished run does not wait for them
    time.sleep(0.5)
    while patched._open_jobs.acquire(blocking=False):
        pass
    assert passes_asked(patched, 5) == 1
    assert passes_asked(patched, 1) == 1             # once it has fired, the next request gets a timer


def test_a_request_made_during_the_pass_a_timer_asked_for_is_not_lost():
    """The timer marks itself fired before it releases the main loop, so a pass that asks again at
    once (the rate limit still holding jobs) always gets a new timer."""
    patched = Patched()
    for _ in range(20):
        patched._schedule_reevalutation(0.01)
        assert patched._open_jobs.acquire(timeout=2)   # the pass runs, and at once asks again
    patched._schedule_reevalutation(0.01)
    assert patched._open_jobs.acquire(timeout=2)


def test_a_sooner_request_is_not_held_back_by_a_later_pending_timer():
    """Snakemake asks with two delays (the rate limit's timespan, the input wait's 10 s): a pending
    10 s timer must not swallow a 0.1 s request."""
    patched = Patched()
    patched._schedule_reevalutation(10.0)
    start = time.monotonic()
    patched._schedule_reevalutation(0.1)
    assert patched._open_jobs.acquire(timeout=2) and time.monotonic() - start < 2


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
