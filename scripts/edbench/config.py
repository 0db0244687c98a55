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
from edbench.race.plan import check_race, check_race_choices, race_specs
from edbench.spec import Budget, RunSpec

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
    if not (SCHEMA.parents[2] / config["claims"]).is_file() and not Path(config["claims"]).is_file():
        raise ConfigError(f"config key 'claims': the claims file {config['claims']} does not exist")
    check_race(config)
    for spec in expand(config):
        spec.check()
    check_race_choices(config)
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
    """The protocol runs (one per dataset, task, entry, seed), the deep-ED study's, then the race's."""
    return protocol_specs(config) + study_specs(config) + race_specs(config)


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


def study_specs(config: dict) -> list[RunSpec]:
    """The deep-ED study: ``ed_deep`` at every combination of each of its grids, every run spending
    the same compute (``weight_passes``: weights times training samples, so the epochs follow from
    the network's size), recording whether the input still reaches the output before and after."""
    study = config.get("deep_ed_study")
    if not study:
        return []
    task = tasks.get(study["task"])
    budget = Budget.from_dict({"epochs": 1, **study.get("budget", {})})
    variants = {}
    for grid in study["grids"]:
        keys = sorted(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            variants["deep_study." + ".".join(f"{k}-{_name_part(v)}" for k, v in zip(keys, values))] = \
                dict(zip(keys, values))
    return [RunSpec(dataset=task.dataset(configured), task=study["task"], entry=entry, method="ed_deep",
                    params={**study.get("params", {}), **variant}, budget=budget, seed=seed,
                    threads=study.get("threads", config["threads"]), diagnose=True,
                    weight_passes=float(study["weight_passes"]), mem_mb=task.mem_mb, runtime=task.runtime)
            for configured in config["datasets"][:1] for entry, variant in variants.items()
            for seed in study["seeds"]]

