"""Load, validate and expand the workflow configuration into one spec per training job."""
from __future__ import annotations

import copy
import itertools
from pathlib import Path

import yaml

from edbench import methods, tasks
from edbench.data import datasets
from edbench.methods.base import ConfigError
from edbench.race import choice as race

TASK_KEYS = ("train_size", "test_size", "epochs", "validation_size")
SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


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
    """Schema-check ``config``, fill defaults, and check every entry builds; raise ConfigError."""
    import jsonschema

    schema = yaml.safe_load(SCHEMA.read_text())
    config = copy.deepcopy(config)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.path))
    if errors:
        lines = [f"config key '{'.'.join(map(str, e.path)) or '<root>'}': {e.message}" for e in errors]
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines))
    _fill_defaults(config, schema)
    check_race(config)
    for spec in expand(config):
        check_spec(spec)
    return config


def _fill_defaults(config: dict, schema: dict) -> None:
    config.setdefault("threads", 1)
    config.setdefault("claims", "config/claims.yaml")
    data = config.setdefault("data", {})
    for key, value in schema["properties"]["data"]["properties"].items():
        if "default" in value:
            data.setdefault(key, value["default"])
    data.setdefault("mirrors", None)


def entry_method(name: str, entry: dict) -> str:
    return entry.get("method", name)


def run_params(config: dict, entry_name: str, task: str) -> tuple[dict, dict]:
    """The (method params, task params) of one (expanded) entry on one task, overrides applied."""
    entry = entries(config)[entry_name]
    task_params = {"train_size": None, "test_size": None,
                   **{k: v for k, v in config["tasks"][task].items() if k != "when_available"}}
    params = dict(entry.get("params", {}))
    for key, value in entry.get("tasks", {}).get(task, {}).items():
        (task_params if key in TASK_KEYS else params)[key] = value
    return params, task_params


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


def dataset_for(task: str, dataset: str) -> str:
    return tasks.get(task).dataset(dataset)


def drop_unavailable(config: dict, raw_root: str | Path = "resources/raw") -> tuple[dict, list[str]]:
    """``config`` without the tasks marked ``when_available`` whose data set is neither cached under
    ``raw_root`` nor in a local directory; and one line per task left out, saying why."""
    kept, skipped = copy.deepcopy(config), []
    local_dirs = config.get("data", {}).get("local_dirs", [])
    for task, settings in config["tasks"].items():
        if not settings.get("when_available") or not tasks.get(task).reads_data:
            continue
        needed = sorted({dataset_for(task, d) for d in config["datasets"]})
        missing = [d for d in needed if not datasets.locally_available(d, Path(raw_root) / d, local_dirs)]
        if missing:
            del kept["tasks"][task]
            where = {d: list(datasets.CATALOG[d].local_dirs) + list(local_dirs) for d in missing}
            skipped.append(f"task {task} left out: {', '.join(missing)} is not on this machine (looked in "
                           f"{raw_root} and {where}); for Fashion-MNIST, apt-get install dataset-fashion-mnist")
    return kept, skipped


def expand(config: dict) -> list[dict]:
    """The protocol runs (one per dataset, task, entry, seed), then the race's trials and winners."""
    return protocol_specs(config) + race_specs(config)


def protocol_specs(config: dict) -> list[dict]:
    """One spec per (dataset, task, entry, seed); a task that reads no data set (gates) runs once,
    and a task bound to a data set (fashion10) once, on that one."""
    specs, seen = [], set()
    for dataset in config["datasets"]:
        for task in config["tasks"]:
            for entry_name, entry in entries(config).items():
                if task not in entry.get("run_on", config["tasks"]):
                    continue
                unknown = sorted(set(entry.get("tasks", {})) - set(tasks.TASKS))
                if unknown:
                    raise ConfigError(f"config key 'methods.{entry_name}.tasks': unknown task(s) {unknown}; "
                                      f"known: {list(tasks.TASKS)}")
                params, task_params = run_params(config, entry_name, task)
                for seed in entry.get("seeds", config["seeds"]):
                    key = (dataset_for(task, dataset), task, entry_name, seed)
                    if key in seen:
                        continue
                    seen.add(key)
                    specs.append({"dataset": key[0], "task": task, "entry": entry_name,
                                  "method": entry_method(entry_name, entry), "params": params,
                                  "task_params": task_params, "seed": seed,
                                  "threads": entry.get("threads", config.get("threads", 1)),
                                  **_resources(entry)})
    return specs


def _resources(entry: dict) -> dict:
    return {key: entry[key] for key in ("mem_mb", "runtime") if key in entry}


def race_specs(config: dict) -> list[dict]:
    """The race: per (dataset, task, contestant) ``trials`` trial runs (one seed, scored on the
    validation split only), then the winner rerun on every seed. A contestant that
    ``shares_trials_with`` another has no trials of its own: its winner is the best of the other's
    trials that it can run."""
    settings = config.get("race")
    if not settings:
        return []
    contestants = settings["contestants"]
    specs = []
    for dataset in config["datasets"]:
        for task, budget in settings["tasks"].items():
            if task not in config["tasks"]:
                continue
            trial_paths = {}
            for name, contestant in contestants.items():
                owner = contestant.get("shares_trials_with")
                if owner is not None:
                    continue
                space = _race_space(name, contestant, task)
                base = _race_run(config, name, contestant, dataset, task, budget)
                draws = race.sample(space, settings["trials"], settings["sampler"]["seed"], name, task)
                trial_paths[name] = []
                for index, draw in enumerate(draws):
                    spec = {**base, "entry": f"trial-{name}-{index:02d}", "params": {**base["params"], **draw},
                            "seed": settings["trial_seed"], "role": "trial", "trial": index,
                            "score_on": "validation"}
                    specs.append(spec)
                    trial_paths[name].append(result_path(spec))
            for name, contestant in contestants.items():
                base = _race_run(config, name, contestant, dataset, task, budget)
                paths = trial_paths[contestant.get("shares_trials_with", name)]
                for seed in contestant.get("seeds", config["seeds"]):
                    specs.append({**base, "entry": f"tuned-{name}", "seed": seed, "role": "winner",
                                  "trials": paths, "targets": budget.get("targets", [])})
    return specs


def _race_split(contestant: dict, task: str) -> tuple[dict, dict, dict]:
    """A contestant's per-task overrides, split into (task settings, params, search space)."""
    overrides = dict(contestant.get("tasks", {}).get(task, {}))
    space = overrides.pop("space", {})
    task_keys = {k: v for k, v in overrides.items() if k in TASK_KEYS}
    params = {k: v for k, v in overrides.items() if k not in TASK_KEYS}
    return task_keys, params, space


def _race_space(name: str, contestant: dict, task: str) -> dict:
    return {**contestant.get("space", {}), **_race_split(contestant, task)[2]}


def _race_run(config, name, contestant, dataset, task, budget) -> dict:
    task_keys, params, _ = _race_split(contestant, task)
    task_params = {"train_size": None, "test_size": None,
                   **{k: v for k, v in budget.items() if k in TASK_KEYS}, **task_keys}
    return {"dataset": dataset_for(task, dataset), "task": task, "contestant": name,
            "method": contestant.get("method", name), "params": {**contestant.get("params", {}), **params},
            "task_params": task_params, "threads": contestant.get("threads", config.get("threads", 1)),
            "capped": sorted(k for k, v in task_keys.items() if v != budget.get(k)), **_resources(contestant)}


def check_race(config: dict) -> None:
    """Search spaces well formed, shared searches point at a contestant with trials, and every
    race task in the config's tasks."""
    settings = config.get("race")
    if not settings:
        return
    contestants = settings["contestants"]
    for name, contestant in contestants.items():
        where = f"race.contestants.{name}"
        owner = contestant.get("shares_trials_with")
        if owner is not None and (owner not in contestants or "shares_trials_with" in contestants[owner]):
            raise ConfigError(f"config key '{where}.shares_trials_with': {owner!r} is not a contestant with "
                              f"trials of its own; contestants: {sorted(contestants)}")
        for task in settings["tasks"]:
            race.check_space(f"{where}.space", _race_space(name, contestant, task))
        unknown = sorted(set(contestant.get("tasks", {})) - set(settings["tasks"]))
        if unknown:
            raise ConfigError(f"config key '{where}.tasks': {unknown} not among the race's tasks "
                              f"{sorted(settings['tasks'])}")
    missing = sorted(set(settings["tasks"]) - set(config["tasks"]))
    if missing:
        raise ConfigError(f"config key 'race.tasks': {missing} not among the config's tasks {sorted(config['tasks'])}")


def check_spec(spec: dict) -> None:
    """Fail before training if a spec cannot run: unknown method, bad params, impossible sizes."""
    where = (f"race.contestants.{spec['contestant']} (trial {spec.get('trial', 'winner')})"
             if "contestant" in spec else f"methods.{spec['entry']}")
    try:
        method_cls = methods.get(spec["method"])
    except ConfigError as error:
        raise ConfigError(f"config key '{where}.method': {error}") from None
    try:
        method_cls.check_params(spec["params"])
    except ConfigError as error:
        raise ConfigError(f"config key '{where}' on task {spec['task']}: {error}") from None
    batch = spec["params"].get("batch_size", method_cls.defaults.get("batch_size"))
    train_size = spec["task_params"].get("train_size")
    validation = spec["task_params"].get("validation_size") or 0
    try:
        task = tasks.get(spec["task"])
        task.check_sizes(train_size, validation)
    except ConfigError as error:
        raise ConfigError(f"config key '{where}' on task {spec['task']}: {error}") from None
    limit = task.training_examples(train_size, validation)
    if batch is not None and limit is not None and batch > limit:
        raise ConfigError(f"config key '{where}' on task {spec['task']}: batch_size {batch} is larger than the "
                          f"{limit} training examples")


def result_path(spec: dict, root: str = "results/runs") -> str:
    return f"{root}/{spec['dataset']}/{spec['task']}/{spec['entry']}/seed{spec['seed']}.json"
