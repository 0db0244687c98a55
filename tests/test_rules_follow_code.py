"""The workflow reruns what the code changes, and runs timed training jobs one at a time."""
import json
import os
import stat

import pytest

from conftest import TINY, snakemake

pytestmark = pytest.mark.workflow

def planned(workdir, *targets):
    done = snakemake(workdir, *targets, "-n", "--cores", "4", "--configfile", "config/tiny.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def test_timed_training_jobs_never_overlap_under_many_cores(tiny):
    workdir, runs = tiny
    spans = sorted((json.loads((workdir / r).read_text())["timing"]["started"],
                    json.loads((workdir / r).read_text())["timing"]["finished"]) for r in runs)
    assert len(spans) == len(runs) == 6
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end, f"two timed jobs overlapped: {spans}"


def test_editing_training_code_reruns_training(tiny):
    workdir, runs = tiny
    assert "rule train" not in planned(workdir, *runs)
    module = workdir / "scripts/edbench/methods/ed/rule.py"
    original = module.read_text()
    module.write_text(original + "\n# an edit\n")
    try:
        plan = planned(workdir, *runs)
        assert plan.count("rule train") == len(runs), plan[-3000:]
        assert "params" in plan.lower()
    finally:
        module.write_text(original)
    assert "rule train" not in planned(workdir, *runs)


def test_editing_reporting_code_reruns_tables_not_training(tiny):
    workdir, runs = tiny
    tables = workdir / "scripts/edbench/report/tables.py"
    # the tables exist first, so a planned tables job is a rerun, not a first run
    done = snakemake(workdir, "results/tables/summary.csv", "--cores", "2", "--configfile", "config/tiny.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rule tables" not in planned(workdir, "results/tables/summary.csv")
    original = tables.read_text()
    tables.write_text(original + "\n# an edit\n")
    try:
        plan = planned(workdir, "results/tables/summary.csv")
        assert "rule tables" in plan and "rule train" not in plan, plan[-3000:]
    finally:
        tables.write_text(original)



def test_figures_rule_declares_every_table_and_figure_it_writes(tiny):
    workdir, _ = tiny
    plan = planned(workdir, "figures", "--forcerun", "figures")
    block = plan[plan.index("rule figures:"):]
    outputs = set(block[block.index("output:") + len("output:"):].splitlines()[0].strip().split(", "))
    for name in ("summary.csv", "per_method.csv", "per_method.md", "curves.csv", "depth_sweep.csv",
                 "best_settings.csv", "reproduction.csv", "data_provenance.csv"):
        assert f"results/tables/{name}" in outputs
    for name in ("accuracy_vs_time", "learning_curves", "time_per_method", "depth_sweep", "xor_convergence"):
        assert f"results/figures/{name}.png" in outputs
    assert "rule tables" in planned(workdir, "results/tables/summary.csv", "--forcerun", "tables")


def test_workflow_jobs_run_with_the_configured_threads(tiny):
    """Thread pinning as the job itself reports it (threadpoolctl and torch.get_num_threads())."""
    workdir, runs = tiny
    for run in runs:
        record = json.loads((workdir / run).read_text())
        reported = record["provenance"]["threads_in_effect"]
        assert reported["threadpools"] and {p["threads"] for p in reported["threadpools"]} == {TINY["threads"]}
        if record["key"]["method"] == "torch":
            assert reported["torch"] == TINY["threads"]


def test_every_file_the_workflow_writes_gets_the_umask_mode(tiny):
    workdir, _ = tiny
    mask = os.umask(0o022)
    os.umask(mask)
    written = [p for folder in ("results", "resources") for p in (workdir / folder).rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in written)
    wrong = {str(p.relative_to(workdir)): oct(stat.S_IMODE(p.stat().st_mode)) for p in written
             if stat.S_IMODE(p.stat().st_mode) != 0o666 & ~mask}
    assert not wrong, f"expected {oct(0o666 & ~mask)}: {wrong}"
