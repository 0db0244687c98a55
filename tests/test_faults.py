"""Faults and determinism on the real workflow: interruption, reruns, --cores 1 against --cores 8."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import snakemake

pytestmark = pytest.mark.workflow
SMOKE = ("--configfile", "config/smoke.yaml")


def without_timing(path: Path) -> str:
    """The result file as canonical JSON with its measured (timing) fields removed."""
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


def test_results_are_identical_across_reruns_and_core_counts(smoke_run):
    workdir, _ = smoke_run
    runs = mnist_runs(workdir)
    assert len(runs) >= 10
    reference = {p: without_timing(p) for p in runs}
    summary = pd.read_csv(workdir / "results/tables/summary.csv")
    for cores in ("1", "8"):
        forget(workdir, runs)
        done = snakemake(workdir, "--cores", cores, *SMOKE)
        assert done.returncode == 0, done.stderr[-3000:]
        for p in runs:
            assert without_timing(p) == reference[p], f"{p} differs with --cores {cores}"
    timing = ["train_seconds", "samples_per_second", "train_cpu_seconds", "peak_memory_mb"]
    again = pd.read_csv(workdir / "results/tables/summary.csv")
    pd.testing.assert_frame_equal(summary.drop(columns=timing), again.drop(columns=timing))


def test_killed_training_job_is_rerun_cleanly(smoke_run):
    workdir, _ = smoke_run
    target = workdir / "results/runs/mnist/mnist10/ed_neuron/seed0.json"
    forget(workdir, [target])
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", *SMOKE, str(target.relative_to(workdir))],
                               cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = workdir / "logs/train/mnist/mnist10/ed_neuron/seed0.log"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.exists() and "epoch" in log.read_text() or
                                          log.exists() and "train" in log.read_text()):
        time.sleep(0.2)
    # the training process itself dies (as under the OOM killer), mid-epoch
    subprocess.run(["pkill", "-9", "-f", "scripts/train.py.*ed_neuron.*mnist10"], check=False)
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0, output[-2000:]
    assert not target.exists()
    for path in (workdir / "results/runs").rglob("*.json"):
        json.loads(path.read_text())   # nothing half-written anywhere
    done = snakemake(workdir, "--cores", "1", *SMOKE)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(target.read_text())["status"] == "ok"


def test_interrupted_workflow_resumes(smoke_run):
    workdir, _ = smoke_run
    forget(workdir, list((workdir / "results/runs").glob("mnist/mnist10/*/seed1.json")))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2", *SMOKE], cwd=workdir, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    time.sleep(6)
    os.killpg(process.pid, signal.SIGINT)          # Ctrl-C
    process.communicate(timeout=120)
    # Snakemake keeps its own guard: a job it was running when interrupted is marked incomplete
    # and rerun with --rerun-incomplete. Our writes are atomic, so that file is whole or absent.
    done = snakemake(workdir, "--cores", "2", "--rerun-incomplete", *SMOKE)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = pd.read_csv(workdir / "results/tables/summary.csv")
    assert len(summary[(summary["task"] == "mnist10") & (summary["seed"] == 1)]) > 0


def test_progress_is_logged_per_epoch(smoke_run):
    workdir, _ = smoke_run
    text = (workdir / "logs/train/mnist/mnist10/bp_adam/seed0.log").read_text()
    assert "epoch 1/3" in text and "epoch 3/3" in text and "left" in text
