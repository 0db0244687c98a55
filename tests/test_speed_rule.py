"""The speed target in the workflow, on the tiny gates config (the "tiny" group of SHARED_RUNS)."""
import json

import pandas as pd
import pytest

from conftest import snakemake

pytestmark = pytest.mark.workflow


def test_speed_target_feeds_the_tables_and_report(tiny):
    workdir, _ = tiny
    done = snakemake(workdir, "speed", "--cores", "2", "--configfile", "config/tiny.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_csv(workdir / "results/tables/speed.csv")
    assert table["same_result"].all()
    assert (workdir / "results/figures/speed.png").stat().st_size > 10_000
    assert "rule train" not in done.stdout + done.stderr
    # the arrays were checked against the data set's recorded SHA-256, which the run records
    recorded = json.loads((workdir / "resources/data/mnist.json").read_text())["file_sha256"]
    environment = json.loads((workdir / "results/tables/speed_environment.json").read_text())
    assert recorded and environment["data"]["file_sha256"] == recorded
    # the environment keeps the machine limits the run measured, from which each row's bound comes
    limits = environment["limits"]
    assert {"float64_1t", "vector_sigmoid_float64_per_s"} <= set(limits) and all(v > 0 for v in limits.values())
    assert "no recorded SHA-256" not in (workdir / "logs/speed.log").read_text()
    # the figures are a job of their own: redrawing them (or a figure that failed) costs no measurement
    (workdir / "results/figures/speed.png").unlink()
    done = snakemake(workdir, "speed", "--cores", "2", "--configfile", "config/tiny.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rule draw_speed" in done.stdout + done.stderr and "rule measure_speed" not in done.stdout + done.stderr
    assert (workdir / "results/figures/speed.png").stat().st_size > 10_000
    done = snakemake(workdir, "results/tables/reproduction.csv", "--cores", "2", "--configfile", "config/tiny.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rule train" not in done.stdout + done.stderr
    reproduction = pd.read_csv(workdir / "results/tables/reproduction.csv")
    timed = reproduction[reproduction["claim"].str.contains("timed in one process")]
    assert len(timed) == 2 and timed["our_value"].notna().all()
