"""The workflow reruns what the code changes, runs timed training jobs side by side on cores of
their own, holds a job to the threads Snakemake grants it, and keeps its own process out of the way."""
import itertools
import json
import os
import re
import stat

import pytest
import yaml

from conftest import TINY, TINY_LOG, copy_repository, snakemake

pytestmark = pytest.mark.workflow


def planned(workdir, *targets):
    done = snakemake(workdir, *targets, "-n", "--cores", "4", "--configfile", "config/tiny.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def timed_slots(log: str) -> int:
    """The capacity of the timed_slot resource, as Snakemake's log states it."""
    return int(re.search(r"Provided resources:.*timed_slot\D*(\d+)", log).group(1))


def most_running_at_once(log: str, rule: str) -> int:
    """The most jobs of ``rule`` that Snakemake's log shows started and not yet finished at once."""
    running, most, header = set(), 0, None
    for line in log.splitlines():
        if started := re.fullmatch(r"(?:local)?rule (\S+):", line):
            header = started.group(1)
        elif (jobid := re.fullmatch(r"\s+jobid: (\d+)", line)) and header == rule:
            running.add(jobid.group(1))
            most = max(most, len(running))
        elif finished := re.fullmatch(rf"Finished jobid: (\d+) \(Rule: {rule}\)", line):
            running.discard(finished.group(1))
    return most


def test_timed_training_jobs_run_side_by_side_on_cores_of_their_own(tiny):
    """--cores 4 on this machine: as many one-thread training jobs at once as it has CPUs (up to 4),
    never more, each pinned to a CPU that no job running beside it holds."""
    workdir, runs = tiny
    log = (workdir / TINY_LOG).read_text()
    slots = min(4, len(os.sched_getaffinity(0)))
    assert timed_slots(log) == slots
    assert most_running_at_once(log, "train") == slots, log[-3000:]
    records = [json.loads((workdir / r).read_text()) for r in runs]
    assert len(records) == 6
    for record in records:
        cores = record["timing"]["cores"]
        assert cores["pinned"] and len(cores["cpus"]) == 1 and record["provenance"]["threads_granted"] == 1
    for first, second in itertools.combinations(records, 2):
        spans = [(r["timing"]["started"], r["timing"]["finished"]) for r in (first, second)]
        if spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]:
            assert set(first["timing"]["cores"]["cpus"]).isdisjoint(second["timing"]["cores"]["cpus"])


def test_the_default_profile_sets_the_greedy_scheduler_and_its_cost_is_recorded(tiny):
    workdir, _ = tiny
    log = (workdir / TINY_LOG).read_text()
    assert "Using workflow specific profile profiles/default" in log
    usage = json.loads((workdir / "results/tables/snakemake_usage.json").read_text())["runs"][0]
    assert usage["scheduler"] == "greedy" and usage["cores"] == 4 and usage["jobs"] >= 7
    assert usage["max_jobs_per_timespan"] == "100/1s"   # Snakemake's default: docs/speed.md says what it costs
    assert usage["reselection_timers"] == "one at a time"   # edbench.scheduling took hold in the main process
    assert 0 < usage["cpu_seconds"] < usage["wall_seconds"]


# One gates job that asks for 64 threads (issue 24), under a config that caps timed jobs at one.
MANY_THREADS = {**TINY, "seeds": [7], "threads": 64, "timed_jobs_at_once": 1,
                "methods": {"bp_sgd": TINY["methods"]["bp_sgd"]}}
MANY_THREADS_RUN = "results/runs/truth_tables/gates/bp_sgd/seed7.json"


@pytest.fixture(scope="module")
def many_threads(tmp_path_factory):
    """MANY_THREADS's job run with --cores 2, in a copy of its own; and Snakemake's output."""
    workdir = copy_repository(tmp_path_factory.mktemp("many_threads"))
    (workdir / "config/many_threads.yaml").write_text(yaml.safe_dump(MANY_THREADS))
    done = snakemake(workdir, MANY_THREADS_RUN, "--cores", "2", "--configfile", "config/many_threads.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    return workdir, done.stdout + done.stderr


def test_threads_above_the_grant_are_clamped_with_a_warning_and_both_recorded(many_threads):
    """Snakemake grants the job 2 threads (--cores 2); the job runs on them, not on 64, says so in
    its log and records what was asked, what was granted and what it ran on."""
    workdir, _ = many_threads
    record = json.loads((workdir / MANY_THREADS_RUN).read_text())
    provenance = record["provenance"]
    used = min(2, len(os.sched_getaffinity(0)))
    assert (provenance["threads_asked"], provenance["threads_granted"], provenance["threads"]) == (64, 2, used)
    assert {pool["threads"] for pool in provenance["threads_in_effect"]["threadpools"]} == {used}
    assert record["timing"]["cores"]["pinned"] and len(record["timing"]["cores"]["cpus"]) == used
    assert record["config"]["threads"] == 64   # the config's request, as every rerun records it
    log = (workdir / "logs/train/truth_tables/gates/bp_sgd/seed7.log").read_text()
    assert "asks for 64 threads, but Snakemake granted its job 2" in log


def test_the_configs_timed_jobs_at_once_caps_the_jobs_run_at_once(many_threads):
    _, log = many_threads
    assert timed_slots(log) == 1


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



def test_figures_writes_every_table_and_figure_the_full_rules_declare(tiny):
    """`figures` names no outputs (so it runs whenever asked, after any config's runs); what it
    writes is checked here against what the tables and draw_figures rules declare."""
    workdir, _ = tiny
    xor = snakemake(workdir, "results/tables/xor_convergence.csv", "--cores", "1", "--configfile", "config/tiny.yaml")
    assert xor.returncode == 0, xor.stderr[-3000:]   # made by its own rule; the redraw reads it
    plan = planned(workdir, "all", "--forcerun", "tables", "draw_figures")
    declared = set()
    for rule in ("tables", "draw_figures"):
        block = plan[plan.index(f"rule {rule}:"):]
        declared |= set(block[block.index("output:") + len("output:"):].splitlines()[0].strip().split(", "))
    assert {"results/tables/summary.csv", "results/figures/learning_curves.png"} <= declared
    done = snakemake(workdir, "figures", "--cores", "1", "--configfile", "config/tiny.yaml")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "rule train" not in output
    assert sorted(name for name in declared if not (workdir / name).exists()) == []


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
