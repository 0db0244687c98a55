"""Which runs train together in one job (the config's ``runs_per_job``, per task).

A job's fixed cost (interpreter and imports; on a cluster also a submission, a Snakemake start-up
inside the job and a status poll that notices it finished) is paid once per batch. Race runs
depend on one another: a promoted trial or a winner reads the trials it is chosen from. A batch
therefore holds whole chains where they fit, a contestant's trials, promoted trials and winners
trained in that order in one job, so the race adds no scheduler stage. A chain larger than a batch
is batched by dependency level instead, each level's batches waiting for the level before.
Within a task, runs of one method go to the same batches, so a process imports torch or loads
numba's kernels once for all of them.
"""
from collections.abc import Mapping


def dependency_levels(runs: Mapping) -> dict[str, int]:
    """0 for a run that waits for no other run; else one more than the runs it chooses from."""
    levels: dict[str, int] = {}

    def level(path: str) -> int:
        if path not in levels:
            levels[path] = 1 + max((level(trial) for trial in runs[path].trials), default=-1)
        return levels[path]

    for path in runs:
        level(path)
    return levels


def chains(paths: list[str], runs: Mapping) -> list[list[str]]:
    """``paths`` split into the groups a run's trials link it to, each in the order of ``paths``."""
    root = {path: path for path in paths}

    def find(path: str) -> str:
        while root[path] != path:
            root[path] = root[root[path]]
            path = root[path]
        return path

    for path in paths:
        for trial in runs[path].trials:
            if trial in root:
                root[find(trial)] = find(path)
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault(find(path), []).append(path)
    return list(groups.values())


def plan(runs: Mapping, runs_per_job: Mapping[str, int]) -> dict[str, list[str]]:
    """Batch name -> its runs' result paths, in the order they train, for every task whose
    ``runs_per_job`` is above 1. ``runs`` maps result path -> RunSpec."""
    levels = dependency_levels(runs)
    by_task: dict[tuple, list[str]] = {}
    for path, spec in sorted(runs.items(), key=lambda item: (item[1].method, item[0])):
        if runs_per_job.get(spec.task, 1) > 1:
            by_task.setdefault((spec.dataset, spec.task), []).append(path)
    batches = {}
    for (dataset, task), paths in by_task.items():
        size = runs_per_job[task]
        stages: dict[str, list[list[str]]] = {}
        for chain in chains(paths, runs):
            if len(chain) <= size:
                stages.setdefault("", []).append(chain)
            else:
                for path in chain:
                    stages.setdefault(f"level{levels[path]}_", []).append([path])
        for stage, stage_units in sorted(stages.items()):
            for index, batch in enumerate(_pack(stage_units, size)):
                batches[f"{dataset}_{task}_{stage}{index}"] = sorted(batch, key=lambda path: levels[path])
    return batches


def _pack(units: list[list[str]], size: int) -> list[list[str]]:
    """Units (lists of runs that stay together) dealt first-fit, in order, into batches of at most
    ``size`` runs. A unit joins the first batch with room for it below an even share of the runs
    over the fewest batches, so batches come out alike in size; once that many batches are open, it
    joins the first with room below ``size``; failing both, it opens a batch."""
    total = sum(len(unit) for unit in units)
    fewest = -(-total // size)
    share = -(-total // fewest)
    batches: list[list[str]] = []
    for unit in units:
        fits = [batch for batch in batches if len(batch) + len(unit) <= share]
        if not fits and len(batches) >= fewest:
            fits = [batch for batch in batches if len(batch) + len(unit) <= size]
        if fits:
            fits[0].extend(unit)
        else:
            batches.append(list(unit))
    return batches


def trials_from_other_jobs(paths: list[str], runs: Mapping) -> list[str]:
    """The trials a batch's runs are chosen from that the batch does not train itself: its inputs."""
    own = set(paths)
    return sorted({trial for path in paths for trial in runs[path].trials} - own)
