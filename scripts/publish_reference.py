"""Copy the current tables and figures into results/reference/, the reference run the README shows.

Refuses unless every run (and the speed table, if any) came from one commit with a clean tree,
and records that commit: the code the numbers came from, not the code at publishing time.
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

import pandas as pd

from edbench import atomic, provenance

TABLES = ["summary.csv", "per_method.csv", "per_method.md", "reproduction.csv", "depth_sweep.csv",
          "xor_convergence.csv", "best_settings.csv", "time_to_target.csv", "headline.csv", "search_dimensions.csv",
          "search_edges.csv", "gap.csv", "deep_ed_study.csv", "data_provenance.csv", "snakemake_usage.json",
          "throughput_check.csv", "speed.csv",
          "speed_environment.json"]


class NotPublishable(Exception):
    """The results cannot be traced to one clean commit."""


def commit_of_results(tables: Path) -> str:
    """The one commit every run and the speed table came from; raises NotPublishable otherwise."""
    summary = pd.read_csv(tables / "summary.csv", dtype={"git_commit": str})
    if summary.empty:
        raise NotPublishable("summary.csv has no runs")
    sources = {}
    for row in summary.itertuples():
        sources.setdefault(row.git_commit if isinstance(row.git_commit, str) else None, []).append(
            f"{row.dataset}/{row.task}/{row.method}/seed{row.seed}")
    speed = tables / "speed_environment.json"
    if speed.exists():
        environment = json.loads(speed.read_text()).get("environment", {})
        sources.setdefault(environment.get("git_commit"), []).append("speed.csv")
    unknown = sources.pop(None, [])
    if unknown:
        raise NotPublishable(f"{len(unknown)} result(s) record no git commit, e.g. {unknown[0]}")
    dirty = {commit: names for commit, names in sources.items() if commit.endswith("-dirty")}
    if dirty:
        commit, names = next(iter(dirty.items()))
        raise NotPublishable(f"{sum(map(len, dirty.values()))} result(s) come from an uncommitted tree "
                             f"({commit}, e.g. {names[0]}): commit, then rerun")
    if len(sources) > 1:
        counts = ", ".join(f"{commit[:12]}: {len(names)}" for commit, names in sorted(sources.items()))
        raise NotPublishable(f"the results come from {len(sources)} commits ({counts}): rerun them on one")
    return next(iter(sources))


def publish(source: Path, target: Path, data_provenance: Path) -> str:
    for name in TABLES:
        if not (source / "tables" / name).exists():
            raise NotPublishable(f"{source / 'tables' / name} is missing: run `snakemake`, then "
                                 "`snakemake --cores 2 speed`, then `snakemake`")
    commit = commit_of_results(source / "tables")
    (target / "figures").mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        path = source / "tables" / name
        atomic.write_atomic(target / name, lambda tmp, path=path: shutil.copyfile(path, tmp))
    for path in sorted((source / "figures").glob("*.png")) + sorted((source / "figures").glob("*.rst")):
        atomic.write_atomic(target / "figures" / path.name, lambda tmp, path=path: shutil.copyfile(path, tmp))
    data = json.loads(data_provenance.read_text())
    environment = provenance.environment(threads=1)
    environment.pop("git_commit")   # the commit of the moment of publishing says nothing about the numbers
    atomic.write_json(target / "provenance.json", {
        "git_commit": commit, "environment_of_publishing": environment,
        "data": {k: data[k] for k in ("name", "sha256", "train_count", "test_count", "source")}})
    return commit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--target", type=Path, default=Path("results/reference"))
    parser.add_argument("--data-provenance", type=Path, default=Path("resources/data/mnist.json"))
    args = parser.parse_args()
    try:
        commit = publish(args.results, args.target, args.data_provenance)
    except NotPublishable as error:
        sys.exit(f"not published: {error}")
    print(f"published the results of commit {commit} to {args.target}")


if __name__ == "__main__":
    main()
