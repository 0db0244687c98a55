"""One change to Snakemake's job scheduler, which the workflow makes in its main process.

While jobs wait for a resource (here ``timed_slot``), Snakemake 9's scheduler ends every selection
pass by starting a timer that asks for another pass once the job-rate limit's timespan has passed
(1 s by default). A pass that a finished job asked for starts a timer too, so the timers multiply:
one more chain of passes for every finished job, each chain a pass a second. On 40 one-at-a-time
jobs of 1.5 s, Snakemake made 1,201 passes in 62 s (99 with this change), and in the full config's
run its main process took a quarter of a core from the timed jobs. The timers are also non-daemon
threads, so with a long timespan a finished run stayed alive until its timers fired.

``keep_one_reevaluation_timer`` lets a pass start a timer only when none pending fires as soon, and
makes it a daemon thread. A timer marks itself fired before it asks for its pass, so a request made
during that pass always gets a timer of its own. Jobs still start as soon as a job ends (its end
asks for a pass at once); the timers only bring back jobs that the rate limit or an input wait
held, at most one timespan later than Snakemake's own would have.
"""
from __future__ import annotations

import threading
import time

# The scheduler's method that starts the timer; its name (with Snakemake's spelling) is checked, so
# a Snakemake without it is left as it is and the run says so.
METHOD = "_schedule_reevalutation"
_DEADLINES = threading.Lock()


def _schedule_one_reevaluation(scheduler, delay) -> None:
    deadline = time.monotonic() + delay
    with _DEADLINES:
        pending = getattr(scheduler, "_edbench_reevaluation_at", None)
        if pending is not None and pending <= deadline:
            return
        scheduler._edbench_reevaluation_at = deadline

    def fire():
        with _DEADLINES:
            if scheduler._edbench_reevaluation_at == deadline:
                scheduler._edbench_reevaluation_at = None
        scheduler._open_jobs.release()

    timer = threading.Timer(delay, fire)
    timer.daemon = True
    timer.start()


def keep_one_reevaluation_timer(scheduler_class=None) -> bool:
    """Replace the scheduler's timer method (``scheduler_class``: Snakemake's ``JobScheduler`` unless
    given); returns whether it was there to replace."""
    scheduler_class = _job_scheduler(scheduler_class)
    if not callable(getattr(scheduler_class, METHOD, None)):
        return False
    setattr(scheduler_class, METHOD, _schedule_one_reevaluation)
    return True


def is_kept_to_one(scheduler_class=None) -> bool:
    """Whether the scheduler's timer method is this module's (for the run's usage record)."""
    return getattr(_job_scheduler(scheduler_class), METHOD, None) is _schedule_one_reevaluation


def _job_scheduler(scheduler_class):
    """``scheduler_class``, or Snakemake's ``JobScheduler`` when none is given."""
    if scheduler_class is None:
        from snakemake.scheduling.job_scheduler import JobScheduler as scheduler_class
    return scheduler_class
