"""Load the workflow configuration, validate it (schema, defaults, entries, race and every run), and
expand it into one ``RunSpec`` per training job."""
from __future__ import annotations

import copy
import itertools
from pathlib import Path

import yaml

from edbench import tasks
from edbench.data import catalog, fetch
from edbench.methods.base import ConfigError
from edbench.race import choice as race
from edbench.spec import Budget, RunSpec

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
# What a race contestant takes from its methods entry, besides the method and the params it
# states its differences from.
INHERITED = ("threads", "seeds", "mem_mb", "runtime")


def load(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from error
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path} must hold a mapping, got {type(config).__name__}")
    return validate(config)


def validate(config: dict) -> dict:
    """``config`` checked against the schema with its defaults filled in, then every entry, the race
    and every run it expands to checked; raises ConfigError naming the key."""
    config = copy.deepcopy(config)
    schema = yaml.safe_load(SCHEMA.read_text())
    errors = sorted(_validator(schema).iter_errors(config), key=lambda e: list(map(str, e.path)))
    if errors:
        lines = [f"config key '{'.'.join(map(str, e.path)) or '<root>'}': {e.message}" for e in errors]
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines))
    for name, entry in config["methods"].items():
        unknown = sorted(set(entry.get("tasks", {})) - set(tasks.TASKS))
        if unknown:
            raise ConfigError(f"config key 'methods.{name}.tasks': unknown task(s) {unknown}; "
                              f"known: {list(tasks.TASKS)}")
    check_race(config)
    for spec in expand(config):
        spec.check()
    return config


def _validator(schema: dict):
    """A JSON-schema validator that fills in each property's ``default`` where the config leaves it out."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    check_properties = base.VALIDATORS["properties"]

    def fill_defaults_then_check(validator, properties, instance, subschema):
        if validator.is_type(instance, "object"):
            for key, value in properties.items():
                if "default" in value:
                    instance.setdefault(key, copy.deepcopy(value["default"]))
        yield from check_properties(validator, properties, instance, subschema)

    return jsonschema.validators.extend(base, {"properties": fill_defaults_then_check})(schema)


def entry_method(name: str, entry: dict) -> str:
    return entry.get("method", name)


def entries(config: dict) -> dict[str, dict]:
    """Config entries with every ``grid`` expanded: one entry per combination, named
    ``entry.key-value.key-value``, its grid values overriding ``params``."""
    expanded = {}
    for name, entry in config["methods"].items():
        grid = entry.get("grid")
        if not grid:
            expanded[name] = entry
            continue
        keys = sorted(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            variant = ".".join(f"{k}-{_name_part(v)}" for k, v in zip(keys, values))
            expanded[f"{name}.{variant}"] = {**{k: v for k, v in entry.items() if k != "grid"},
                                             "method": entry_method(name, entry),
                                             "params": {**entry.get("params", {}), **dict(zip(keys, values))}}
    return expanded


def _name_part(value) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(map(str, value))
    return str(value)


def entry_settings(config: dict, entry_name: str, task: str) -> tuple[dict, Budget]:
    """The params and budget of one (expanded) entry on one task: the task's budget and the entry's
    params, each with the entry's overrides for that task over it."""
    entry = entries(config)[entry_name]
    override = entry.get("tasks", {}).get(task, {})
    budget = Budget.from_settings(config["tasks"][task]).overridden(override.get("budget", {}))
    return {**entry.get("params", {}), **override.get("params", {})}, budget


def drop_unavailable(config: dict, raw_root: str | Path = "resources/raw") -> tuple[dict, list[str]]:
    """``config`` without the tasks marked ``when_available`` whose data set is neither cached under
    ``raw_root`` nor in a local directory; and one line per task left out, saying why."""
    kept, skipped = copy.deepcopy(config), []
    local_dirs = config.get("data", {}).get("local_dirs", [])
    for name, settings in config["tasks"].items():
        task = tasks.get(name)
        if not settings.get("when_available") or not task.reads_data:
            continue
        needed = sorted({task.dataset(d) for d in config["datasets"]})
        missing = [d for d in needed if not fetch.locally_available(d, Path(raw_root) / d, local_dirs)]
        if missing:
            del kept["tasks"][name]
            where = {d: list(catalog.CATALOG[d].local_dirs) + list(local_dirs) for d in missing}
            skipped.append(f"task {name} left out: {', '.join(missing)} is not on this machine (looked in "
                           f"{raw_root} and {where}); for Fashion-MNIST, apt-get install dataset-fashion-mnist")
    return kept, skipped


def expand(config: dict) -> list[RunSpec]:
    """The protocol runs (one per dataset, task, entry, seed), then the race's trials and winners."""
    return protocol_specs(config) + race_specs(config)


def protocol_specs(config: dict) -> list[RunSpec]:
    """One spec per (dataset, task, entry, seed); a task that reads no data set (gates) runs once,
    and a task bound to a data set (fashion10) once, on that one."""
    specs, seen = [], set()
    for configured in config["datasets"]:
        for task_name in config["tasks"]:
            task = tasks.get(task_name)
            for entry_name, entry in entries(config).items():
                if task_name not in entry.get("run_on", config["tasks"]):
                    continue
                params, budget = entry_settings(config, entry_name, task_name)
                for seed in entry.get("seeds", config["seeds"]):
                    spec = RunSpec(dataset=task.dataset(configured), task=task_name, entry=entry_name,
                                   method=entry_method(entry_name, entry), params=params, budget=budget, seed=seed,
                                   threads=entry.get("threads", config["threads"]), **_resources(entry, task))
                    if spec.result_path() not in seen:
                        seen.add(spec.result_path())
                        specs.append(spec)
    return specs


def _resources(entry: dict, task: tasks.Task) -> dict:
    return {"mem_mb": entry.get("mem_mb", task.mem_mb), "runtime": entry.get("runtime", task.runtime)}


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
                          "method": entry_method(entry_name, entry),
                          "params": {**entry.get("params", {}), **contestant.get("params", {})}}
    return resolved


def race_specs(config: dict) -> list[RunSpec]:
    """The race: per (dataset, task, contestant) ``trials`` trial runs (one seed, scored on the
    validation split only), then the winner rerun on every seed. A contestant that
    ``shares_trials_with`` another has no trials of its own: its winner is the best of the other's
    trials that it can run."""
    settings = config.get("race")
    if not settings:
        return []
    resolved = contestants(config)
    specs = []
    for configured in config["datasets"]:
        for task_name, race_budget in settings["tasks"].items():
            if task_name not in config["tasks"]:
                continue
            dataset = tasks.get(task_name).dataset(configured)
            trial_paths = {}
            for name, contestant in resolved.items():
                if "shares_trials_with" in contestant:
                    continue
                shared, params = _contestant_run(config, name, contestant, dataset, task_name, race_budget)
                draws = race.sample(contestant_space(contestant, task_name), settings["trials"],
                                    settings["sampler"]["seed"], name, task_name)
                trials = [RunSpec(**shared, entry=f"trial-{name}-{index:02d}", params={**params, **draw},
                                  seed=settings["trial_seed"], role="trial", trial=index)
                          for index, draw in enumerate(draws)]
                specs += trials
                trial_paths[name] = tuple(trial.result_path() for trial in trials)
            for name, contestant in resolved.items():
                shared, params = _contestant_run(config, name, contestant, dataset, task_name, race_budget)
                paths = trial_paths[contestant.get("shares_trials_with", name)]
                specs += [RunSpec(**shared, entry=f"tuned-{name}", params=params, seed=seed, role="winner",
                                  trials=paths, targets=tuple(race_budget.get("targets", [])))
                          for seed in contestant.get("seeds", config["seeds"])]
    return specs


def contestant_space(contestant: dict, task: str) -> dict:
    """A contestant's search space on ``task``: its ``space``, with its per-task ``space`` over it."""
    return {**contestant.get("space", {}), **contestant.get("tasks", {}).get(task, {}).get("space", {})}


def _contestant_run(config, name, contestant, dataset, task_name, race_budget) -> tuple[dict, dict]:
    """What every run of a contestant on a task shares (RunSpec fields), and its declared params: the
    race's budget and the contestant's params, each with the contestant's overrides for the task."""
    override = contestant.get("tasks", {}).get(task_name, {})
    cap = override.get("budget", {})
    shared = {"dataset": dataset, "task": task_name, "contestant": name, "method": contestant["method"],
              "budget": Budget.from_settings(race_budget).overridden(cap),
              "threads": contestant.get("threads", config["threads"]),
              "capped": tuple(sorted(k for k, v in cap.items() if v != race_budget.get(k))),
              **_resources(contestant, tasks.get(task_name))}
    return shared, {**contestant["params"], **override.get("params", {})}


def check_race(config: dict) -> None:
    """Every contestant starts from a methods entry, search spaces are well formed, shared searches
    point at a contestant with trials, and every race task is in the config's tasks."""
    settings = config.get("race")
    if not settings:
        return
    resolved = contestants(config)
    for name, contestant in resolved.items():
        where = f"race.contestants.{name}"
        owner = contestant.get("shares_trials_with")
        if owner is not None and (owner not in resolved or "shares_trials_with" in resolved[owner]):
            raise ConfigError(f"config key '{where}.shares_trials_with': {owner!r} is not a contestant with "
                              f"trials of its own; contestants: {sorted(resolved)}")
        for task in settings["tasks"]:
            race.check_space(f"{where}.space", contestant_space(contestant, task))
        unknown = sorted(set(contestant.get("tasks", {})) - set(settings["tasks"]))
        if unknown:
            raise ConfigError(f"config key '{where}.tasks': {unknown} not among the race's tasks "
                              f"{sorted(settings['tasks'])}")
    missing = sorted(set(settings["tasks"]) - set(config["tasks"]))
    if missing:
        raise ConfigError(f"config key 'race.tasks': {missing} not among the config's tasks {sorted(config['tasks'])}")
