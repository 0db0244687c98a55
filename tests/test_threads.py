"""edbench.threads: the one owner of thread counts and of the cores timed jobs are pinned to."""
import json
import os
import subprocess
import sys

import pytest

from edbench import threads

CLAIM = ("import json, os, sys, time; from edbench import threads; "
         "c = threads.claim_cores(int(sys.argv[1]), wait_seconds=float(sys.argv[2])); "
         "print(json.dumps({**c.record(), 'affinity': sorted(os.sched_getaffinity(0))}), flush=True); "
         "time.sleep(float(sys.argv[3]))")


def claim(count, wait=0.5, hold=0.0, locks=None, background=False):
    env = {**os.environ, "EDBENCH_CORE_LOCKS": str(locks)}
    args = [sys.executable, "-c", CLAIM, str(count), str(wait), str(hold)]
    if background:
        process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
        return process, json.loads(process.stdout.readline())
    return json.loads(subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout)


needs_two_cpus = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to share out")


@needs_two_cpus
def test_jobs_side_by_side_are_pinned_to_different_cores(tmp_path):
    holder, first = claim(1, hold=5, locks=tmp_path, background=True)
    try:
        second = claim(1, locks=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert first["pinned"] and second["pinned"]
    assert first["affinity"] == first["cpus"] and second["affinity"] == second["cpus"]
    assert set(first["cpus"]).isdisjoint(second["cpus"])


@needs_two_cpus
def test_a_job_that_finds_no_free_core_waits_then_runs_unpinned_and_says_so(tmp_path):
    holder, _ = claim(1, hold=5, locks=tmp_path, background=True)
    try:
        both = claim(len(os.sched_getaffinity(0)), wait=0.3, locks=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert not both["pinned"] and "no" in both["unpinned_because"] and both["waited_seconds"] >= 0.3


def test_cores_come_free_when_the_holder_ends_however_it_ends(tmp_path):
    holder, first = claim(1, hold=60, locks=tmp_path, background=True)
    holder.kill()    # no clean exit: the kernel drops its locks
    holder.wait()
    again = claim(len(os.sched_getaffinity(0)), wait=2, locks=tmp_path)
    assert again["pinned"] and set(first["cpus"]) <= set(again["cpus"])


def test_more_cores_than_the_process_may_use_is_refused_not_oversubscribed(tmp_path):
    many = claim(len(os.sched_getaffinity(0)) + 1, locks=tmp_path)
    assert not many["pinned"] and "available" in many["unpinned_because"]


def test_shell_prefix_sets_every_library_the_same():
    assert threads.shell_prefix(3) == "OMP_NUM_THREADS=3 OPENBLAS_NUM_THREADS=3 MKL_NUM_THREADS=3 NUMBA_NUM_THREADS=3"
    assert threads.environment(2) == {name: "2" for name in threads.ENVIRONMENT_VARIABLES}


def turn_is_taken(locks) -> bool:
    """Whether some process holds the claims' turn (the test takes it and gives it back if free)."""
    import fcntl

    with open(locks / "claim.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


@needs_two_cpus
def test_a_job_that_needs_several_cores_is_not_starved_by_one_core_jobs(tmp_path):
    import time

    holder, first = claim(1, hold=60, locks=tmp_path, background=True)
    env = {**os.environ, "EDBENCH_CORE_LOCKS": str(tmp_path)}
    waiting = subprocess.Popen([sys.executable, "-c", CLAIM, "2", "30", "0"], env=env, stdout=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 30
        while not turn_is_taken(tmp_path):   # the two-core job has its turn: it holds the free core
            assert time.monotonic() < deadline and waiting.poll() is None
            time.sleep(0.05)
        later = claim(1, wait=0.5, locks=tmp_path)
        holder.kill()
        holder.wait()
        both = json.loads(waiting.stdout.readline())
    finally:
        for process in (holder, waiting):
            process.kill()
            process.wait()
    assert not later["pinned"]
    assert both["pinned"] and len(both["cpus"]) == 2 and both["waited_seconds"] > 0


@pytest.mark.parametrize("cores, threads_per_job, cap, expected", [
    (2, 1, None, 2),     # --cores 2: two one-thread jobs side by side
    (8, 1, None, 2),     # --cores 8 on 2 CPUs: no more than the CPUs hold
    (1, 1, None, 1),
    (2, 2, None, 1),     # two-thread jobs on 2 cores: one at a time
    (2, 1, 1, 1),        # the config's timed_jobs_at_once caps it
    (1, 2, None, 1),     # at least one
    (None, 1, None, 40),  # no cores given (a cluster): each job has cores of its own
    (None, 1, 3, 3),
])
def test_timed_jobs_at_once_follows_the_cores_given(monkeypatch, cores, threads_per_job, cap, expected):
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    assert threads.timed_jobs_at_once(cores, threads_per_job, cap, most=40) == expected


def test_a_run_asking_for_more_threads_than_granted_is_held_to_the_grant_and_says_so(caplog, monkeypatch):
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    placement = threads.Placement(granted=2)
    assert [placement.threads_for(asked) for asked in (1, 2, 64)] == [1, 2, 2]
    assert threads.Placement(granted=8).threads_for(64) == 2   # nor more than the CPUs it may use
    assert threads.AS_ASKED.threads_for(64) == 64              # outside the workflow: as asked
    with caplog.at_level("WARNING"):
        placement.warn_if_clamped(1, "gates/bp_sgd/seed0")
        assert not caplog.records
        placement.warn_if_clamped(64, "gates/bp_sgd/seed0")
    assert "gates/bp_sgd/seed0 asks for 64 threads, but Snakemake granted its job 2" in caplog.text
    assert placement.record(64) == {"threads_asked": 64, "threads_granted": 2}
    assert placement.cores_record() is None
