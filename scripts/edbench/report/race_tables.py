"""The race's tables, one row set per budget: every candidate of every search and the one chosen
(best settings), where each chosen value sits in its space (search edges), which search dimension
limits a method, each winner's time to the validation targets, and the headline of winners at their
tuned settings."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from edbench.race import choice, search
from edbench.report.intervals import mean_ci95

KEY = ["dataset", "task", "budget", "contestant"]


def _key(run: dict) -> tuple:
    return run["data"]["name"], run["key"]["task"], run["key"].get("stage") or "", run["key"]["contestant"]


def winner_groups(runs: list[dict]) -> dict:
    """Every race winner's runs (one per seed), by (dataset, task, budget, contestant), seeds in order."""
    groups = {}
    for run in sorted(runs, key=lambda r: r["key"]["seed"]):
        if run["key"].get("role") == "winner" and run.get("race"):
            groups.setdefault(_key(run), []).append(run)
    return groups


def chosen_setting(run: dict) -> dict:
    """The params a winner's choice took: its chosen candidate's, or, where none was eligible, its own."""
    race = run["race"]
    return race["trials"][race["chosen_trial"]]["params"] if race["chosen_trial"] is not None \
        else run["config"]["params"]


def edges(run: dict) -> list[dict]:
    """Where each searched dimension's chosen value sits in the winner's space (``search.edge``)."""
    space, setting = run["race"].get("space") or {}, chosen_setting(run)
    return [{"parameter": key, "value": json.dumps(setting.get(key)), **search.edge(space[key], setting.get(key))}
            for key in sorted(space) if key in setting]


def binding(run: dict) -> str:
    """The dimensions whose chosen value sits at an edge of the space, as "lr high; hidden high"."""
    return "; ".join(f"{e['parameter']} {e['at_edge']}" for e in edges(run) if e["at_edge"] in ("low", "high"))


SEARCH_EDGE_COLUMNS = KEY + ["parameter", "kind", "value", "position", "at_edge"]


def search_edges(runs: list[dict]) -> pd.DataFrame:
    """Per winner and searched dimension: the chosen value, its position in the space (0 low end,
    1 high end; a log range in log space) and whether it sits at an edge: in the outer tenth of a
    range, or the first or last of an ordered choice ("low"/"high"; "unordered" where a choice has no
    order). A dimension at an edge may be binding: the search could not look past it."""
    rows = [{**dict(zip(KEY, key)), **edge} for key, group in sorted(winner_groups(runs).items())
            for edge in edges(group[0])]
    return pd.DataFrame(rows, columns=SEARCH_EDGE_COLUMNS)


BEST_SETTINGS_COLUMNS = KEY + ["method", "candidate", "trial", "trained_by", "setting", "status",
                               "validation_accuracy", "size", "train_seconds", "eligible", "promoted", "chosen",
                               "recorded_choice_agrees", "candidates", "promotions", "edges",
                               "winner_test_accuracy_mean", "seeds"]


def best_settings(runs: list[dict]) -> pd.DataFrame:
    """Every candidate of every (task, budget, contestant) search, and the one chosen: at the first
    budget the trials, at a later one the promoted trials. The choice is recomputed here from what
    its record holds (``choice.choose``: validation accuracy, eligibility, size, the tie margin) and
    checked against the one the winner's runs made; the winner's test accuracy is shown only after
    the choice. ``promoted`` marks the candidates that went on to the next budget."""
    seconds, promoted_from = {}, {}
    for run in runs:
        role = run["key"].get("role")
        if role in ("trial", "promoted"):
            seconds[(run["data"]["name"], run["key"]["task"], run["key"]["entry"])] = run["timing"]["train_seconds"]
        if role == "promoted" and run.get("race") and run["race"]["chosen_trial"] is not None:
            records = run["race"]["trials"]
            promoted_from.setdefault((run["data"]["name"], run["key"]["task"], run["key"]["contestant"]),
                                     set()).add(records[run["race"]["chosen_trial"]]["entry"])
    rows = []
    for key, group in sorted(winner_groups(runs).items()):
        first = group[0]
        race = first["race"]
        chosen, _ = choice.choose(race["trials"], race.get("tie_margin", 0.0))
        scores = [r["metrics"]["test_accuracy"] for r in group if r["status"] == "ok"]
        went_on = promoted_from.get((key[0], key[1], key[3]), set())
        promotions = sum(r["key"]["contestant"] == key[3] and r["key"].get("role") == "promoted"
                         and r["data"]["name"] == key[0] and r["key"]["task"] == key[1] for r in runs)
        for index, record in enumerate(race["trials"]):
            rows.append({
                **dict(zip(KEY, key)), "method": first["key"]["method"], "candidate": index,
                "trial": record["trial"] if record.get("promoted_from") is None else record["promoted_from"],
                "trained_by": record["trained_by"], "setting": json.dumps(record["params"], sort_keys=True),
                "status": record["status"], "validation_accuracy": record["validation_accuracy"],
                "size": record.get("size"), "train_seconds": seconds.get((key[0], key[1], record["entry"]), math.nan),
                "eligible": record["eligible"], "promoted": record["entry"] in went_on, "chosen": index == chosen,
                "recorded_choice_agrees": chosen == race["chosen_trial"], "candidates": len(race["trials"]),
                "promotions": promotions, "edges": binding(first) if index == chosen else "",
                "winner_test_accuracy_mean": float(np.mean(scores)) if index == chosen and scores else math.nan,
                "seeds": len(scores) if index == chosen else 0})
    return pd.DataFrame(rows, columns=BEST_SETTINGS_COLUMNS)


TIME_TO_TARGET_COLUMNS = KEY + ["target", "seeds", "reached", "never_reached", "median_seconds", "median_samples",
                                "median_epoch", "epochs_run"]


def time_to_target(runs: list[dict]) -> pd.DataFrame:
    """Per race winner and target: over seeds, the median training time and samples to first reach
    the target on validation, and how many seeds never reached it in the epochs run."""
    rows = []
    for key, group in sorted(winner_groups(runs).items()):
        found = {}
        for run in group:
            curve = run["metrics"]["curve"] if run["status"] == "ok" else []
            for hit in choice.time_to_target(curve, run["timing"]["cumulative_seconds"], run["race"]["targets"]):
                found.setdefault(hit["target"], []).append(hit)
        epochs = max(run["metrics"]["epochs_run"] for run in group)
        for target, hits in sorted(found.items()):
            reached = [hit for hit in hits if hit["seconds"] is not None]

            def median(field, reached=reached):
                return float(np.median([hit[field] for hit in reached])) if reached else math.nan

            rows.append({**dict(zip(KEY, key)), "target": target, "seeds": len(hits), "reached": len(reached),
                         "never_reached": len(hits) - len(reached), "median_seconds": median("seconds"),
                         "median_samples": median("samples"), "median_epoch": median("epoch"), "epochs_run": epochs})
    return pd.DataFrame(rows, columns=TIME_TO_TARGET_COLUMNS)


SEARCH_DIMENSION_COLUMNS = KEY + ["parameter", "value", "trials", "best_validation_accuracy"]


def search_dimensions(best: pd.DataFrame) -> pd.DataFrame:
    """Which search dimension limits a method: per budget and parameter that varied over its own
    candidates, the best validation accuracy for each value (numbers with more than three values
    split at their median into a low and a high half)."""
    rows = []
    own = best[best["trained_by"] == best["method"]]
    for key, group in own.groupby(KEY, sort=True):
        settings = [json.loads(text) for text in group["setting"]]
        scores = group["validation_accuracy"].tolist()
        for parameter in sorted({k for setting in settings for k in setting}):
            values = [setting.get(parameter) for setting in settings]
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
                rows.append({**dict(zip(KEY, key)), "parameter": parameter, "value": label, "trials": len(picked),
                             "best_validation_accuracy": max(known) if known else math.nan})
    return pd.DataFrame(rows, columns=SEARCH_DIMENSION_COLUMNS)


HEADLINE_COLUMNS = KEY + ["method", "runs", "diverged", "test_accuracy_mean", "test_accuracy_ci95_low",
                          "test_accuracy_ci95_high", "validation_accuracy_mean", "train_seconds_median",
                          "train_seconds_ci95_low", "train_seconds_ci95_high", "samples_per_second_median",
                          "train_count", "test_count", "epochs", "last_epoch_validation_gain", "setting", "edges",
                          "capped", "note"]


def headline(runs: list[dict]) -> pd.DataFrame:
    """One row per race winner and budget: accuracy (mean, 95% t-interval over seeds) and training
    time at its tuned setting, what it was trained on, the dimensions whose chosen value sits at an
    edge of its space, and what differs from the race's budget."""
    rows = []
    for key, group in sorted(winner_groups(runs).items()):
        ok = [r for r in group if r["status"] == "ok"]
        mean, low, high = mean_ci95([r["metrics"]["test_accuracy"] for r in ok])
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
        if first["race"]["chosen_trial"] is None:
            notes.append("no eligible candidate converged: the declared setting")
        rows.append({
            **dict(zip(KEY, key)), "method": first["key"]["method"], "runs": len(group),
            "diverged": len(group) - len(ok), "test_accuracy_mean": mean,
            "test_accuracy_ci95_low": max(low, 0.0), "test_accuracy_ci95_high": min(high, 1.0),
            "validation_accuracy_mean": mean_ci95([r["metrics"]["validation_accuracy"] for r in ok])[0],
            "train_seconds_median": float(np.median([r["timing"]["train_seconds"] for r in ok])) if ok else math.nan,
            "train_seconds_ci95_low": seconds[1], "train_seconds_ci95_high": seconds[2],
            "samples_per_second_median": float(np.median([r["timing"]["samples_per_second"] for r in ok]))
            if ok else math.nan,
            "train_count": first["data"]["task_train_count"], "test_count": first["data"]["task_test_count"],
            "epochs": first["config"]["task_params"]["epochs"],
            "last_epoch_validation_gain": float(np.mean(gains)) if gains else math.nan,
            "setting": json.dumps(chosen_setting(first), sort_keys=True), "edges": binding(first),
            "capped": ",".join(capped), "note": "; ".join(notes)})
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)
