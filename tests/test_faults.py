"""Faults and determinism on the real workflow: interruption, reruns, --cores 1 against --cores 8.

Faults are injected only into processes this test started, found by PID among the descendants of
the Snakemake process it launched; nothing is killed by name or pattern.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from conftest import snakemake, timing_columns

pytestmark = pytest.mark.workflow
SMOKE = ("--configfile", "config/smoke.yaml")


def slow_to_finish_batches(workdir: Path) -> list[tuple[str, list[Path]]]:
    """The mnist10 batches, as the workflow plans them, whose last run is torch's race winner at
    the last budget (torch's import alone takes 2 s), each as its runs in the order its one process
    trains them: a fault can land between the first run written and the last. Nothing but the
    tables depends on a batch that ends a race's chain, so redoing it leaves every other output of
    the shared smoke run up to date."""
    done = snakemake(workdir, "--dry-run", "--forceall", *SMOKE)
    assert done.returncode == 0, done.stderr[-3000:]
    batches, rule = [], None
    for line in done.stdout.splitlines():
        if line.startswith("rule "):
            rule = line.removeprefix("rule ").rstrip(":")
        elif rule and rule.startswith("train_batch_mnist_mnist10_") and line.strip().startswith("output:"):
            runs = [workdir / name for name in line.split(":", 1)[1].replace(",", " ").split()]
            if len(runs) >= 3 and runs[-1].parts[-2] == "tuned-long-torch":
                batches.append((rule, runs))
    assert batches, done.stdout[-3000:]
    return batches


def without_timing(path: Path) -> str:
    """The result file as canonical JSON with its measured fields (``timing``) removed."""
    record = json.loads(path.read_text())
    record.pop("timing")
    return json.dumps(record, sort_keys=True)


def mnist_runs(workdir: Path) -> list[Path]:
    return sorted((workdir / "results/runs").glob("mnist/mnist01/*/seed*.json"))


def forget(workdir: Path, runs) -> None:
    """Delete ``runs`` and the tables built from them, as if the first run had stopped early."""
    for path in runs:
        path.unlink(missing_ok=True)
    for path in (workdir / "results/tables").glob("*"):
        if path.name not in ("xor_convergence.csv",):
            path.unlink()


def _as_a_foreground_job():
    # A job started in the background by a non-interactive shell (nohup ... &, some CI runners)
    # inherits SIGINT ignored; in a terminal's foreground job, where Ctrl-C comes from, it is not.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_snakemake(workdir: Path, *args) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.Popen([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_as_a_foreground_job)


def wait_until_mid_batch(process: subprocess.Popen, runs: list[Path], timeout=300) -> psutil.Process:
    """Wait until the batch training ``runs`` has written the first but not the last; return its process.

    The process is looked for only among the descendants of ``process``, which this test started.
    """
    last = "/".join(runs[-1].parts[-6:])   # as the rule writes it: results/runs/...
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"snakemake ended before the batch was mid-way: {process.communicate()[0][-3000:]}")
        if runs[0].exists() and not runs[-1].exists():
            for child in psutil.Process(process.pid).children(recursive=True):
                try:
                    argv = child.cmdline()
                except psutil.Error:
                    continue
                if "scripts/train.py" in argv and last in argv:
                    return child
        time.sleep(0.05)
    pytest.fail("the batch never started")


def test_results_are_identical_across_reruns_and_core_counts(smoke_run):
    workdir = smoke_run.workdir
    runs = mnist_runs(workdir)
    winners = [p for p in runs if p.parts[-2].startswith("tuned-")]
    assert len(runs) >= 10 and 0 < len(winners) < len(runs)
    reference = {p: without_timing(p) for p in runs}
    summary = pd.read_csv(workdir / "results/tables/summary.csv")
    forget(workdir, runs)
    # every mnist01 run is made again once, beside the --cores 2 of the first run: the batches of
    # the backprop methods' runs (their race chains included) with --cores 1, then the rest and
    # the tables with --cores 8
    first = [str(p.relative_to(workdir)) for p in runs if "bp_" in p.parts[-2]]
    cores_of = {}
    for cores, targets in (("1", first), ("8", ["results/tables/summary.csv"])):
        done = snakemake(workdir, *targets, "--cores", cores, *SMOKE)
        assert done.returncode == 0, done.stderr[-3000:]
        cores_of.update({p: cores for p in runs if p.exists() and p not in cores_of})
    assert set(cores_of.values()) == {"1", "8"} and any(cores_of[p] == "8" for p in winners)
    for p in runs:
        assert without_timing(p) == reference[p], f"{p} differs with --cores {cores_of[p]}"
    again = pd.read_csv(workdir / "results/tables/summary.csv")
    pd.testing.assert_frame_equal(summary.drop(columns=timing_columns(summary)),
                                  again.drop(columns=timing_columns(again)))


def test_killed_training_job_is_rerun_cleanly(smoke_run):
    workdir = smoke_run.workdir
    rule, runs = slow_to_finish_batches(workdir)[0]
    before = {p: without_timing(p) for p in runs}
    forget(workdir, runs)
    targets = [str(p.relative_to(workdir)) for p in runs]
    process = start_snakemake(workdir, *targets, "--cores", "1", *SMOKE)
    trainer = wait_until_mid_batch(process, runs)
    assert not runs[-1].exists()
    trainer.kill()   # SIGKILL, as from the OOM killer: no clean-up of its own
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0, output[-2000:]
    assert rule in output and "Error" in output
    assert not runs[-1].exists()
    for path in (workdir / "results/runs").rglob("*.json"):
        json.loads(path.read_text())   # nothing half-written anywhere
    done = snakemake(workdir, *targets, "--cores", "1", *SMOKE)   # the same command again
    assert done.returncode == 0, done.stderr[-3000:]
    assert {p: without_timing(p) for p in runs} == before


def test_interrupted_workflow_resumes_with_a_plain_rerun(smoke_run):
    workdir = smoke_run.workdir
    _, runs = slow_to_finish_batches(workdir)[-1]
    forget(workdir, runs)
    process = start_snakemake(workdir, "--cores", "2", *SMOKE)
    trainer = wait_until_mid_batch(process, runs)
    started = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    assert not runs[-1].exists()
    for child in started:   # Ctrl-C reaches the whole foreground job: each process, by PID
        try:
            child.send_signal(signal.SIGINT)
        except psutil.NoSuchProcess:
            pass
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0, output[-2000:]
    assert not trainer.is_running() or trainer.status() == psutil.STATUS_ZOMBIE
    assert not runs[-1].exists(), "the interrupt landed after the batch had finished"
    done = snakemake(workdir, "--cores", "2", *SMOKE)   # the documented command, nothing added
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert all(json.loads(p.read_text())["status"] == "ok" for p in runs)
    summary = pd.read_csv(workdir / "results/tables/summary.csv")
    tabled = set(zip(summary["task"], summary["method"], summary["seed"]))
    assert {(p.parts[-3], p.parts[-2], int(p.stem.removeprefix("seed"))) for p in runs} <= tabled


def test_progress_is_logged_per_epoch(smoke_run):
    workdir = smoke_run.workdir
    text = (workdir / "logs/train/mnist/mnist10/bp_adam/seed0.log").read_text()
    assert "epoch 1/3" in text and "epoch 3/3" in text and "left" in text


def test_a_second_run_in_the_same_directory_meets_the_lock(smoke_run):
    """A second `snakemake` while one runs used to be told to clean up metadata (harmful while the
    first is live); with the default profile's rerun-incomplete it meets Snakemake's lock."""
    workdir = smoke_run.workdir
    _, runs = slow_to_finish_batches(workdir)[0]
    forget(workdir, runs)
    # the first run stops at the tables: the test is about the lock it holds, not about what it makes
    process = start_snakemake(workdir, "results/tables/summary.csv", "--cores", "1", *SMOKE)
    wait_until_mid_batch(process, runs)
    second = snakemake(workdir, "--cores", "1", *SMOKE)
    output = second.stdout + second.stderr
    assert second.returncode != 0, output[-3000:]
    assert "LockException" in output or "cannot be locked" in output, output[-3000:]
    assert "cleanup-metadata" not in output, output[-3000:]
    first, _ = process.communicate(timeout=600)
    assert process.returncode == 0, first[-3000:]
    assert all(json.loads(p.read_text())["status"] == "ok" for p in runs)


def test_a_damaged_run_file_is_named_before_any_job_and_its_remedy_trains_it_again(smoke_run):
    """A run file cut to half its size used to be found only by the tables job, as a bare
    JSONDecodeError, after Snakemake had deleted every table; it was never trained again."""
    workdir = smoke_run.workdir
    race = workdir / "results/runs/mnist/mnist01"
    damaged = race / "trial-bp_adam-00/seed0.json"
    dependents = sorted([*race.glob("promoted-bp_adam-*/seed*.json"), *race.glob("tuned-*-bp_adam/seed*.json")])
    assert damaged.exists() and dependents
    tables = {p: p.stat().st_mtime_ns for p in (workdir / "results/tables").glob("*")}
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    relative = damaged.relative_to(workdir)
    refused = snakemake(workdir, "--cores", "2", *SMOKE)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert f"{relative} is damaged" in output and f"rm {relative} && snakemake" in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert {p: p.stat().st_mtime_ns for p in (workdir / "results/tables").glob("*")} == tables
    stamps = {p: p.stat().st_mtime_ns for p in dependents}
    damaged.unlink()   # the printed remedy, then the same command
    done = snakemake(workdir, "--cores", "2", *SMOKE)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert json.loads(damaged.read_text())["status"] == "ok"
    assert all(p.stat().st_mtime_ns != stamps[p] for p in dependents)   # the winners chosen from it
    summary = pd.read_csv(workdir / "results/tables/summary.csv")
    assert ((summary["method"] == damaged.parts[-2]) & (summary["task"] == "mnist01")).any()


def test_a_damaged_data_cache_is_named_before_any_job_and_nothing_is_lost(smoke_run):
    """Random bytes in resources/data/mnist.npz used to fail each training job (its log named the
    file), Snakemake then deleted 17 runs, and the printed remedy said 'Nothing to be done'."""
    workdir = smoke_run.workdir
    cache = workdir / "resources/data/mnist.npz"
    runs = {p: p.stat().st_mtime_ns for p in (workdir / "results/runs").rglob("*.json")}
    tables = {p: p.stat().st_mtime_ns for p in (workdir / "results/tables").glob("*.csv")}
    kept = cache.with_name("kept.npz")
    shutil.copy2(cache, kept)
    try:
        damaged = bytearray(cache.read_bytes())
        damaged[len(damaged) // 2: len(damaged) // 2 + 64] = os.urandom(64)
        cache.unlink()
        cache.write_bytes(bytes(damaged))
        refused = snakemake(workdir, "--cores", "2", *SMOKE)
        output = refused.stdout + refused.stderr
        assert refused.returncode != 0
        assert "resources/data/mnist.npz is damaged" in output, output[-3000:]
        assert "rm resources/data/mnist.npz && snakemake" in output, output[-3000:]
        cache.unlink()   # the printed remedy, then the same command
        done = snakemake(workdir, "--cores", "2", *SMOKE)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert {p: p.stat().st_mtime_ns for p in (workdir / "results/runs").rglob("*.json")} == runs
        assert {p: p.stat().st_mtime_ns for p in (workdir / "results/tables").glob("*.csv")} == tables
    finally:
        cache.unlink(missing_ok=True)
        os.replace(kept, cache)   # the original bytes and times, for the tests that follow


def test_the_readmes_figures_command_works_after_another_configs_run(smoke_run):
    """The README's own command, without the run's --configfile, after a smoke run: it used to fail
    with '... is not part of this config's grid'. It redraws every table and figure from the runs
    there, training nothing and writing no run file."""
    workdir = smoke_run.workdir
    runs = sorted((workdir / "results/runs").rglob("*.json"))
    stamps = {p: p.stat().st_mtime_ns for p in runs}
    command = next(line.split("#")[0].split() for line in (workdir / "README.md").read_text().splitlines()
                   if line.startswith("snakemake") and " figures" in line)
    assert "--configfile" not in command
    # every table and figure the run made, less the XOR and speed tables: other rules measure those
    made = sorted(p for p in (workdir / "results/tables").glob("*.csv") if p.name not in ("xor_convergence.csv",
                                                                                          "speed.csv")) \
        + sorted((workdir / "results/figures").glob("*.png"))
    for path in made:
        path.unlink()
    done = snakemake(workdir, *command[1:])
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "rule train" not in output
    assert [p for p in made if not p.exists()] == []
    assert {p: p.stat().st_mtime_ns for p in runs} == stamps
