"""The smoke config on a real single-node SLURM cluster through snakemake-executor-plugin-slurm.

The cluster (Debian's slurm-wlm and munge, on 127.0.0.1 only) is started by tests/slurm/cluster.sh
and stopped afterwards. Without root or without those packages the test skips and says why.
"""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, copy_repository, describe_usage, load_average, snakemake, snakemake_usage, timing_columns

pytestmark = pytest.mark.workflow
# One or two batches per task instead of the smoke config's 2-9 (the test node has 2 cores): each
# holds whole race chains (edbench.batching), so the race adds no scheduler stage: 7 SLURM jobs.
SLURM_RUNS_PER_JOB = "{gates: 14, mnist01: 38, mnist10: 32, digits10: 34}"


def why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root to start munged, slurmctld and slurmd"
    missing = [tool for tool in ("munged", "slurmctld", "slurmd", "sbatch", "squeue") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install slurm-wlm munge)"
    if Path("/etc/slurm/slurm.conf").exists() and "edbench" not in Path("/etc/slurm/slurm.conf").read_text():
        return "a real SLURM config is present in /etc/slurm; not starting a test cluster over it"
    return None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = why_not()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm")
    script = REPO / "tests/slurm/cluster.sh"
    started = subprocess.run(["bash", str(script), "start", str(state)], capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        subprocess.run(["bash", str(script), "stop", str(state)], timeout=60)
        pytest.skip(f"the SLURM test cluster did not start: {started.stderr.strip()[-500:]}")
    try:
        yield state
    finally:
        subprocess.run(["bash", str(script), "stop", str(state)], timeout=60)


def test_smoke_config_on_slurm_matches_a_local_run(cluster, smoke_run, tmp_path, report_time):
    workdir = copy_repository(tmp_path / "edbench", skip=["results/reference/"])
    batching = tmp_path / "slurm_batches.yaml"
    batching.write_text(f"runs_per_job: {SLURM_RUNS_PER_JOB}\n")
    start = time.perf_counter()
    # Each SLURM job pays a submission, a Snakemake start-up inside it and the executor's status
    # polling, which backs off by 10 s each time no job has finished: fewer, larger batches than the
    # local run's. Every ready batch is submitted at once (--jobs 16) and the cluster queues them on
    # its 2 cores, so no batch waits for a status poll to be submitted. Results do not depend on
    # the batching, so the tables must still match.
    done = snakemake(workdir, "--profile", "workflow/profiles/slurm", "--configfile", "config/smoke.yaml",
                     str(batching),
                     "--default-resources", "slurm_partition=debug", "mem_mb=1000", "runtime=30",
                     "--slurm-no-account", "--slurm-status-command", "squeue",
                     "--slurm-init-seconds-before-status-checks", "1", "--jobs", "16", timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "slurm" in (done.stdout + done.stderr).lower()
    slurm_seconds = time.perf_counter() - start
    # reported, not asserted: the goal is at most 1.5 times the local run (issues 14, 23). Both runs
    # may share the 2 cores with the other xdist worker's tests: the load beside each is printed;
    # `pytest tests/test_slurm.py -n 0` times them alone, one after the other.
    submitted = (done.stdout + done.stderr).count("has been submitted with SLURM jobid")
    report_time(f"smoke config on SLURM (runs_per_job {SLURM_RUNS_PER_JOB}): {slurm_seconds:.0f} s in "
                f"{submitted} SLURM jobs ({load_average()} at its end); locally {smoke_run.seconds:.0f} s "
                f"({smoke_run.load}); SLURM/local {slurm_seconds / smoke_run.seconds:.2f}")
    report_time(f"the main Snakemake process's own CPU: locally {describe_usage(smoke_run.own_cpu)}, "
                f"on SLURM {describe_usage(snakemake_usage(workdir))}")
    on_slurm = pd.read_csv(workdir / "results/tables/summary.csv")
    local = smoke_run.summary
    assert len(local) == len(on_slurm) > 0
    pd.testing.assert_frame_equal(on_slurm.drop(columns=timing_columns(on_slurm) + ["git_commit"]),
                                  local.drop(columns=timing_columns(local) + ["git_commit"]))
