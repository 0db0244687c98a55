"""The race's tables: every trial of every search and the one chosen (best settings), which search
dimension limits a method, each winner's time to the validation targets, and the headline of
winners at their tuned settings."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from edbench.report.intervals import mean_ci95


def _winner_runs(runs: list[dict]) -> dict:
    """The first seed's run of every race winner, by (dataset, task, contestant): each seed records
    the same trials and choice."""
    first = {}
    for run in sorted(runs, key=lambda r: r["key"]["seed"]):
        if run.get("race"):
            first.setdefault((run["data"]["name"], run["key"]["task"], run["key"]["contestant"]), run)
    return first


BEST_SETTINGS_COLUMNS = ["dataset", "task", "contestant", "method", "trial", "trained_by", "setting", "status",
                         "validation_accuracy", "train_seconds", "eligible", "chosen", "recorded_choice_agrees",
                         "winner_test_accuracy_mean", "seeds"]


def best_settings(runs: list[dict]) -> pd.DataFrame:
    """Every trial of every (task, contestant) search, and the one chosen. The choice is
    recomputed here from validation accuracy alone (``race.choose``) and checked against the one the
    winner's runs made; the winner's test accuracy is shown only after the choice."""
    from edbench.race import choice as race

    tested, trial_seconds = {}, {}
    for run in runs:
        if run["key"].get("role") == "trial":
            trial_seconds[(run["data"]["name"], run["key"]["task"], run["key"]["entry"])] = \
                run["timing"]["train_seconds"]
        if run.get("race") and run["status"] == "ok":
            tested.setdefault((run["data"]["name"], run["key"]["task"], run["key"]["contestant"]), []).append(
                run["metrics"]["test_accuracy"])
    rows = []
    for (dataset, task, contestant), run in sorted(_winner_runs(runs).items()):
        records = run["race"]["trials"]
        chosen, _ = race.choose(records)
        scores = tested.get((dataset, task, contestant), [])
        for index, record in enumerate(records):
            rows.append({
                "dataset": dataset, "task": task, "contestant": contestant, "method": run["key"]["method"],
                "trial": index, "trained_by": record["trained_by"],
                "setting": json.dumps(record["params"], sort_keys=True), "status": record["status"],
                "validation_accuracy": record["validation_accuracy"],
                "train_seconds": trial_seconds.get((dataset, task, record["entry"]), math.nan),
                "eligible": record["eligible"], "chosen": index == chosen,
                "recorded_choice_agrees": chosen == run["race"]["chosen_trial"],
                "winner_test_accuracy_mean": float(np.mean(scores)) if index == chosen and scores else math.nan,
                "seeds": len(scores) if index == chosen else 0})
    return pd.DataFrame(rows, columns=BEST_SETTINGS_COLUMNS)


TIME_TO_TARGET_COLUMNS = ["dataset", "task", "contestant", "target", "seeds", "reached", "never_reached",
                          "median_seconds", "median_samples", "median_epoch", "epochs_run"]


def time_to_target(runs: list[dict]) -> pd.DataFrame:
    """Per race winner and target: over seeds, the median training time and samples to first reach
    the target on validation, and how many seeds never reached it in the epochs run."""
    from edbench.race import choice as race

    hits = {}
    for run in runs:
        if not run.get("race"):
            continue
        key = (run["data"]["name"], run["key"]["task"], run["key"]["contestant"])
        curve = run["metrics"]["curve"] if run["status"] == "ok" else []
        for hit in race.time_to_target(curve, run["timing"]["cumulative_seconds"], run["race"]["targets"]):
            hits.setdefault(key + (hit["target"],), []).append((hit, run["metrics"]["epochs_run"]))
    rows = []
    for (dataset, task, contestant, target), found in sorted(hits.items()):
        reached = [hit for hit, _ in found if hit["seconds"] is not None]

        def median(field, reached=reached):
            return float(np.median([hit[field] for hit in reached])) if reached else math.nan

        rows.append({"dataset": dataset, "task": task, "contestant": contestant, "target": target,
                     "seeds": len(found), "reached": len(reached), "never_reached": len(found) - len(reached),
                     "median_seconds": median("seconds"), "median_samples": median("samples"),
                     "median_epoch": median("epoch"), "epochs_run": max(epochs for _, epochs in found)})
    return pd.DataFrame(rows, columns=TIME_TO_TARGET_COLUMNS)


SEARCH_DIMENSION_COLUMNS = ["dataset", "task", "contestant", "parameter", "value", "trials",
                            "best_validation_accuracy"]


def search_dimensions(best: pd.DataFrame) -> pd.DataFrame:
    """Which search dimension limits a method: per parameter that varied over its own trials, the
    best validation accuracy for each value (numbers with more than three values split at their
    median into a low and a high half)."""
    rows = []
    own = best[best["trained_by"] == best["method"]]
    for (dataset, task, contestant), group in own.groupby(["dataset", "task", "contestant"], sort=True):
        settings = [json.loads(text) for text in group["setting"]]
        scores = group["validation_accuracy"].tolist()
        for key in sorted({k for setting in settings for k in setting}):
            values = [setting.get(key) for setting in settings]
            labels = [json.dumps(v) for v in values]
            if len(set(labels)) < 2:
                continue
            numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            if len(numbers) == len(values) and len(set(numbers)) > 3:
                middle = float(np.median(numbers))
                labels = [f"<= {middle:.3g}" if v <= middle else f"> {middle:.3g}" for v in values]
            for label in sorted(set(labels)):
                picked = [score for score, mine in zip(scores, labels) if mine == label]
                known = [score for score in picked if score is not None and not pd.isna(score)]
                rows.append({"dataset": dataset, "task": task, "contestant": contestant, "parameter": key,
                             "value": label, "trials": len(picked),
                             "best_validation_accuracy": max(known) if known else math.nan})
    return pd.DataFrame(rows, columns=SEARCH_DIMENSION_COLUMNS)


HEADLINE_COLUMNS = ["dataset", "task", "contestant", "method", "runs", "diverged", "test_accuracy_mean",
                    "test_accuracy_ci95_low", "test_accuracy_ci95_high", "train_seconds_median",
                    "train_seconds_ci95_low", "train_seconds_ci95_high", "samples_per_second_median",
                    "train_count", "test_count", "epochs", "last_epoch_validation_gain", "setting", "capped", "note"]


def headline(runs: list[dict]) -> pd.DataFrame:
    """One row per race winner: accuracy (mean, 95% t-interval over seeds) and training time at its
    tuned setting, what it was trained on, and what differs from the race's budget."""
    groups = {}
    for run in runs:
        if run.get("race"):
            groups.setdefault((run["data"]["name"], run["key"]["task"], run["key"]["contestant"]), []).append(run)
    rows = []
    for (dataset, task, contestant), group in sorted(groups.items()):
        ok = [r for r in group if r["status"] == "ok"]
        mean, low, high = mean_ci95([r["metrics"]["test_accuracy"] for r in ok])
        accuracy = (mean, max(low, 0.0), min(high, 1.0))
        seconds = mean_ci95([r["timing"]["train_seconds"] for r in ok])
        first = group[0]
        # still rising at the end? the validation accuracy gained in the last epoch, mean over seeds
        gains = [r["metrics"]["curve"][-1]["validation_accuracy"] - r["metrics"]["curve"][-2]["validation_accuracy"]
                 for r in ok if len(r["metrics"]["curve"]) > 1]
        capped = first["config"].get("capped", [])
        notes = []
        if capped:
            notes.append("capped: " + ", ".join(f"{k} {first['config']['task_params'][k]}" for k in capped))
        trained_by = {t["trained_by"] for t in first["race"]["trials"]}
        if trained_by != {first["key"]["method"]}:
            notes.append(f"setting chosen from {'/'.join(sorted(trained_by))}'s trials "
                         f"(identical weights by construction)")
        rows.append({
            "dataset": dataset, "task": task, "contestant": contestant, "method": first["key"]["method"],
            "runs": len(group), "diverged": len(group) - len(ok), "test_accuracy_mean": accuracy[0],
            "test_accuracy_ci95_low": accuracy[1], "test_accuracy_ci95_high": accuracy[2],
            "train_seconds_median": float(np.median([r["timing"]["train_seconds"] for r in ok])) if ok else math.nan,
            "train_seconds_ci95_low": seconds[1], "train_seconds_ci95_high": seconds[2],
            "samples_per_second_median": float(np.median([r["timing"]["samples_per_second"] for r in ok]))
            if ok else math.nan,
            "train_count": first["data"]["task_train_count"], "test_count": first["data"]["task_test_count"],
            "epochs": first["config"]["task_params"]["epochs"],
            "last_epoch_validation_gain": float(np.mean(gains)) if gains else math.nan,
            "setting": json.dumps(first["race"]["trials"][first["race"]["chosen_trial"]]["params"], sort_keys=True),
            "capped": ",".join(capped), "note": "; ".join(notes)})
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)
