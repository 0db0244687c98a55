"""Which runs train together in one job (edbench.batching): every run once, no batch over its size,
trials before the runs chosen from them, and a race in one scheduler stage where its chain fits."""
from types import SimpleNamespace

import pytest
import yaml

from conftest import REPO
from edbench import batching
from edbench import config as edconfig


def run(method, trials=(), task="mnist10"):
    return SimpleNamespace(method=method, dataset="mnist", task=task, trials=tuple(trials))


def race(method, trials=2, winners=2):
    """A contestant's chain: trials, one promoted run chosen from them, winners chosen from that."""
    runs = {f"{method}/trial{index}": run(method) for index in range(trials)}
    runs[f"{method}/promoted"] = run(method, runs)
    runs.update({f"{method}/seed{seed}": run(method, [f"{method}/promoted"]) for seed in range(winners)})
    return runs


def smoke_runs(runs_per_job=None):
    config = yaml.safe_load((REPO / "config/smoke.yaml").read_text())
    if runs_per_job:
        config["runs_per_job"] = runs_per_job
    config = edconfig.validate(config)
    return {spec.result_path(): spec for spec in edconfig.expand(config)}, config["runs_per_job"]


def stages(batches, runs):
    """How many scheduler stages the batches take: 1 + the longest chain of batches that wait for
    another batch's trials. Fails on a batch that waits for itself or on a cycle."""
    home = {path: name for name, paths in batches.items() for path in paths}
    depth = {}

    def stage(name, seen=()):
        assert name not in seen, f"batches wait for one another in a cycle: {seen}"
        if name not in depth:
            waits = {home[trial] for trial in batching.trials_from_other_jobs(batches[name], runs) if trial in home}
            assert name not in waits
            depth[name] = 1 + max((stage(other, (*seen, name)) for other in waits), default=0)
        return depth[name]

    return max(stage(name) for name in batches)


@pytest.mark.parametrize("runs_per_job", [None, {"gates": 8, "mnist01": 26, "mnist10": 14, "digits10": 16},
                                          {"gates": 2, "mnist01": 3, "mnist10": 2, "digits10": 5}])
def test_every_batched_run_trains_once_after_its_trials_in_a_batch_within_its_size(runs_per_job):
    runs, sizes = smoke_runs(runs_per_job)
    batches = batching.plan(runs, sizes)
    batched = [path for paths in batches.values() for path in paths]
    assert sorted(batched) == sorted(path for path, spec in runs.items() if sizes.get(spec.task, 1) > 1)
    for name, paths in batches.items():
        assert 0 < len(paths) <= sizes[runs[paths[0]].task], name
        assert len({(runs[path].dataset, runs[path].task) for path in paths}) == 1, name
        for position, path in enumerate(paths):
            inside = [trial for trial in runs[path].trials if trial in paths]
            assert all(paths.index(trial) < position for trial in inside), f"{path} trains before its trials"
    stages(batches, runs)


def test_a_race_whose_chains_fit_takes_one_stage_and_larger_ones_go_level_by_level():
    runs, _ = smoke_runs()
    fits = batching.plan(runs, {"mnist01": 26, "mnist10": 14, "digits10": 16})
    assert stages(fits, runs) == 1
    split = batching.plan(runs, {"mnist01": 3, "mnist10": 3, "digits10": 3})
    assert stages(split, runs) == 3   # trials, promoted runs, winners


def test_chains_are_the_runs_linked_by_their_trials():
    runs = {**race("ed_matrix"), **race("torch"), "fd/seed0": run("fd")}
    runs["ed_neuron/seed0"] = run("ed_neuron", ["ed_matrix/promoted"])
    found = sorted(sorted(chain) for chain in batching.chains(list(runs), runs))
    assert found == sorted([sorted([*race("ed_matrix"), "ed_neuron/seed0"]), sorted(race("torch")), ["fd/seed0"]])


def test_whole_chains_fill_batches_first_fit_and_an_oversized_one_goes_by_level():
    runs = {**race("bp_sgd"), **race("ed_matrix", trials=6), **race("torch"), "fd/seed0": run("fd")}
    batches = batching.plan(runs, {"mnist10": 6})
    sizes = {name: len(paths) for name, paths in batches.items()}
    # bp_sgd's chain (5) and fd's run share a batch, torch's chain takes the next; ed_matrix's
    # 9-run chain goes by level: its 6 trials, then its promoted run, then its 2 winners
    assert sizes == {"mnist_mnist10_0": 6, "mnist_mnist10_1": 5, "mnist_mnist10_level0_0": 6,
                     "mnist_mnist10_level1_0": 1, "mnist_mnist10_level2_0": 2}
    assert set(batches["mnist_mnist10_0"]) == {*race("bp_sgd"), "fd/seed0"}
    assert batching.trials_from_other_jobs(batches["mnist_mnist10_level2_0"], runs) == ["ed_matrix/promoted"]
    assert batching.trials_from_other_jobs(batches["mnist_mnist10_0"], runs) == []


def test_tasks_with_one_run_per_job_are_not_batched():
    runs = {**race("bp_sgd"), "gates/fd": run("fd", task="gates")}
    assert set(batching.plan(runs, {"gates": 1, "mnist10": 1})) == set()
    assert list(batching.plan(runs, {"gates": 4})) == ["mnist_gates_0"]


def test_runs_are_dealt_into_the_fewest_batches_alike_in_size():
    runs = {f"fd/seed{seed}": run("fd", task="gates") for seed in range(24)}
    assert [len(paths) for paths in batching.plan(runs, {"gates": 10}).values()] == [8, 8, 8]
