"""The race's runs, planned from the config before anything trains: successive halving over budgets.

Per (task, contestant): ``trials`` settings drawn from its space train at the first budget and are
scored on the validation split; the best ``promoted`` of them (by ``choice.ranking``) train again at
the next budget, and so on. At every budget the best candidate on validation reruns on every seed
and is scored on the test set. Every contestant gets the same trials and the same promotions, and
at each budget the same examples and epochs.

A contestant that ``shares_trials_with`` another computes the same weights as that one's method,
so it trains no trials of its own: its promotions are trained by the owner's method (on the trials
it may take), and only its winners run its own method.
"""
from __future__ import annotations

from edbench import methods, tasks
from edbench.methods.base import ConfigError
from edbench.race import search
from edbench.spec import Budget, RunSpec

# What a contestant takes from its methods entry, besides the method and the params it states its
# differences from.
INHERITED = ("threads", "seeds", "mem_mb", "runtime")


def contestants(config: dict) -> dict[str, dict]:
    """Each race contestant as it runs: the methods entry it names (``entry``, by default its own
    name; its method, params and INHERITED keys) with the contestant's own keys over it, params
    merged key by key, so a contestant states only how it differs."""
    resolved, names = {}, sorted(config["methods"])
    for name, contestant in config["race"]["contestants"].items():
        entry_name = contestant.get("entry", name)
        if entry_name not in config["methods"]:
            raise ConfigError(f"config key 'race.contestants.{name}.entry': no methods entry {entry_name!r} to "
                              f"start from; entries: {names}")
        entry = config["methods"][entry_name]
        resolved[name] = {**{key: entry[key] for key in INHERITED if key in entry}, **contestant,
                          "method": entry.get("method", entry_name),
                          "params": {**entry.get("params", {}), **contestant.get("params", {})}}
    return resolved


def promotions(settings: dict) -> int:
    """How many candidates go on from one budget to the next: ``promoted``, by default a third."""
    return settings.get("promoted") or max(1, settings["trials"] // 3)


def race_specs(config: dict) -> list[RunSpec]:
    """Every race run: trials, promotions and winners, per data set, task and contestant."""
    settings = config.get("race")
    if not settings:
        return []
    resolved = contestants(config)
    specs = []
    for configured in config["datasets"]:
        for task_name, race_task in settings["tasks"].items():
            if task_name in config["tasks"]:
                dataset = tasks.get(task_name).dataset(configured)
                running = {name: c for name, c in resolved.items() if task_name in c.get("run_on", [task_name])}
                specs += _task_specs(config, running, dataset, task_name, race_task)
    return specs


def _task_specs(config: dict, running: dict, dataset: str, task_name: str, race_task: dict) -> list[RunSpec]:
    settings = config["race"]
    stages = list(race_task["budgets"].items())
    specs, first_candidates = [], {}
    for name, contestant in running.items():
        if "shares_trials_with" in contestant:
            continue
        shared, params = _contestant_run(config, name, contestant, dataset, task_name, race_task, stages[0])
        draws = search.sample(contestant_space(contestant, task_name), settings["trials"],
                              settings["sampler"]["seed"], name, task_name)
        trials = [RunSpec(**shared, entry=f"trial-{name}-{index:02d}", params={**params, **draw},
                          seed=settings["trial_seed"], role="trial", trial=index)
                  for index, draw in enumerate(draws)]
        specs += trials
        first_candidates[name] = tuple(trial.result_path() for trial in trials)
    for name, contestant in running.items():
        owner_name = contestant.get("shares_trials_with", name)
        owner = running[owner_name]
        chooser = {"space": contestant_space(owner, task_name), "tie_margin": float(settings["tie_margin"]),
                   "max_hidden_cells": contestant.get("max_hidden_cells"),
                   "chosen_for": contestant["method"] if owner_name != name else None}
        candidates = first_candidates[owner_name]
        for index, stage in enumerate(stages):
            if index > 0:
                shared, params = _contestant_run(config, owner_name, owner, dataset, task_name, race_task, stage)
                promoted = [RunSpec(**{**shared, "contestant": name}, **chooser, entry=f"promoted-{name}-{rank:02d}",
                                    params=params, seed=settings["trial_seed"], role="promoted", rank=rank,
                                    trials=candidates)
                            for rank in range(promotions(settings))]
                specs += promoted
                candidates = tuple(run.result_path() for run in promoted)
            shared, params = _contestant_run(config, name, contestant, dataset, task_name, race_task, stage)
            specs += [RunSpec(**shared, **{**chooser, "chosen_for": None}, entry=f"tuned-{stage[0]}-{name}",
                              params=params, seed=seed, role="winner", trials=candidates,
                              targets=tuple(race_task.get("targets", [])))
                      for seed in contestant.get("seeds", config["seeds"])]
    return specs


def contestant_space(contestant: dict, task: str) -> dict:
    """A contestant's search space on ``task``: its ``space``, with its per-task ``space`` over it."""
    return {**contestant.get("space", {}), **contestant.get("tasks", {}).get(task, {}).get("space", {})}


def _contestant_run(config, name, contestant, dataset, task_name, race_task, stage) -> tuple[dict, dict]:
    """What every run of a contestant at one budget (``stage``: its name and epochs) shares (RunSpec
    fields), and its declared params: the race's budget and the contestant's params, each with the
    contestant's overrides for the task."""
    override = contestant.get("tasks", {}).get(task_name, {})
    cap = override.get("budget", {})
    stage_name, epochs = stage
    race_budget = {**race_task, "epochs": epochs}
    shared = {"dataset": dataset, "task": task_name, "contestant": name, "method": contestant["method"],
              "budget": Budget.from_settings(race_budget).overridden(cap), "stage": stage_name,
              "threads": contestant.get("threads", config["threads"]),
              "capped": tuple(sorted(k for k, v in cap.items() if v != race_budget.get(k))),
              "mem_mb": contestant.get("mem_mb", tasks.get(task_name).mem_mb),
              "runtime": contestant.get("runtime", tasks.get(task_name).runtime)}
    return shared, {**contestant["params"], **override.get("params", {})}


def check_race_choices(config: dict) -> None:
    """Each value of each ``choice`` dimension must make a setting the contestant's method accepts:
    a random draw may not reach every value before the race runs, so each is tried now."""
    if not config.get("race"):
        return
    for name, contestant in contestants(config).items():
        method_cls = methods.get(contestant["method"])
        for task in config["race"]["tasks"]:
            for change in search.every_choice(contestant_space(contestant, task)):
                try:
                    method_cls.check_params({**contestant["params"], **change})
                except ConfigError as error:
                    (key, value), = change.items()
                    raise ConfigError(f"config key 'race.contestants.{name}.space.{key}': the choice {value!r} "
                                      f"cannot run: {error}") from None


def check_race(config: dict) -> None:
    """Every contestant starts from a methods entry, search spaces are well formed, shared searches
    point at a contestant with trials on the same tasks, and every race task is in the config's tasks."""
    settings = config.get("race")
    if not settings:
        return
    resolved = contestants(config)
    for name, contestant in resolved.items():
        where = f"race.contestants.{name}"
        owner = contestant.get("shares_trials_with")
        on = set(contestant.get("run_on", settings["tasks"]))
        if owner is not None and (owner not in resolved or "shares_trials_with" in resolved[owner]
                                  or not on <= set(resolved[owner].get("run_on", settings["tasks"]))):
            raise ConfigError(f"config key '{where}.shares_trials_with': {owner!r} is not a contestant with "
                              f"trials of its own on every task this one runs; contestants: {sorted(resolved)}")
        for task in settings["tasks"]:
            search.check_space(f"{where}.space", contestant_space(contestant, task))
        unknown = sorted((set(contestant.get("tasks", {})) | on) - set(settings["tasks"]))
        if unknown:
            raise ConfigError(f"config key '{where}': tasks {unknown} not among the race's tasks "
                              f"{sorted(settings['tasks'])}")
    missing = sorted(set(settings["tasks"]) - set(config["tasks"]))
    if missing:
        raise ConfigError(f"config key 'race.tasks': {missing} not among the config's tasks {sorted(config['tasks'])}")
