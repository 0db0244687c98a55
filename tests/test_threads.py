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
