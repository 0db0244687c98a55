"""Collect run JSONs into tidy tables: one row per run, per-method summaries, curves, reproduction."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = [
    "dataset", "task", "method", "seed", "status", "test_accuracy", "train_seconds", "samples_per_second",
    "warmup_seconds", "startup_seconds", "validation_accuracy",
    "final_train_loss", "train_cpu_seconds", "peak_memory_mb", "epochs", "diverged_epoch", "implementation",
    "config_dataset", "train_count", "test_count", "threads", "data_sha256", "git_commit", "role", "contestant",
    "trial",
]


def read_runs(paths) -> list[dict]:
    runs = []
    for path in sorted(map(Path, paths)):
        with open(path) as handle:
            runs.append(json.load(handle))
    return runs


def summary(runs: list[dict]) -> pd.DataFrame:
    rows = []
    for run in runs:
        key, metrics, timing = run["key"], run["metrics"], run["timing"]
        rows.append({
            "dataset": run["data"]["name"], "task": key["task"], "method": key["entry"], "seed": key["seed"],
            "status": run["status"], "test_accuracy": metrics["test_accuracy"],
            "train_seconds": timing["train_seconds"], "samples_per_second": timing["samples_per_second"],
            "warmup_seconds": timing.get("warmup_seconds"),   # absent in runs from before it was timed apart
            "startup_seconds": timing.get("startup_seconds"),
            "validation_accuracy": metrics.get("validation_accuracy"),
            "final_train_loss": metrics["final_train_loss"], "train_cpu_seconds": timing["train_cpu_seconds"],
            "peak_memory_mb": timing["peak_memory_mb"], "epochs": metrics["epochs_run"],
            "diverged_epoch": run["diverged_epoch"], "implementation": key["method"],
            "config_dataset": key["dataset"], "train_count": run["data"]["task_train_count"],
            "test_count": run["data"]["task_test_count"], "threads": run["config"]["threads"],
            "data_sha256": run["data"].get("sha256"), "git_commit": run["provenance"]["git_commit"],
            "role": key.get("role", "protocol"), "contestant": key.get("contestant"), "trial": key.get("trial"),
        })
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    return frame.sort_values(["dataset", "task", "method", "seed"], kind="stable").reset_index(drop=True)


def data_provenance(runs: list[dict]) -> pd.DataFrame:
    """One row per data set actually used: its name, where it came from, checksum and counts."""
    rows = {}
    for run in runs:
        data = run["data"]
        rows[(data["name"], data.get("sha256"))] = {
            "dataset": data["name"], "requested": data.get("requested", data["name"]),
            "source": " ".join(data.get("source", [])), "checks": " ".join(data.get("checks", [])),
            "sha256": data.get("sha256"),
            "train_count": data.get("train_count"), "test_count": data.get("test_count"),
            "fallback_reason": (data.get("fallback_reason") or "").splitlines()[0] if data.get("fallback_reason")
            else ""}
    return pd.DataFrame(list(rows.values()), columns=["dataset", "requested", "source", "checks", "sha256",
                                                      "train_count", "test_count", "fallback_reason"])


def curves(runs: list[dict]) -> pd.DataFrame:
    rows = []
    for run in runs:
        key = run["key"]
        for point in run["metrics"]["curve"]:
            rows.append({"dataset": run["data"]["name"], "task": key["task"], "method": key["entry"],
                         "seed": key["seed"], **point})
    return pd.DataFrame(rows, columns=["dataset", "task", "method", "seed", "epoch", "train_loss", "test_accuracy",
                                       "validation_accuracy", "samples"])


def mean_ci95(values) -> tuple[float, float, float]:
    """Mean and the half-width of its 95% t-interval (NaN half-width with one value)."""
    from scipy import stats

    values = np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))],
                        dtype=float)
    if len(values) == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def wilson95(accuracy: float, n: int) -> tuple[float, float]:
    """95% Wilson score interval of an accuracy measured on ``n`` test examples."""
    if n is None or math.isnan(accuracy) or not n > 0:
        return math.nan, math.nan
    z = 1.959963984540054
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def per_method(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, task, method): three intervals for the accuracy and the all-runs accuracy.

    - ``ci95``: 95% t-interval of the mean over converged seeds (seed variance only);
    - ``wilson``: 95% Wilson interval of the mean accuracy for a test set of ``test_count``
      examples; every seed scores the same examples, so n is the test-set size, not seeds × size;
    - ``min``/``max`` over converged seeds (shows a bimodal result the mean hides);
    - ``all_runs``: the mean over every run, a diverged run counting as accuracy 0 (it delivers
      no classifier), beside ``mean``, which leaves diverged runs out.
    """
    rows = []
    for (dataset, task, method), group in frame.groupby(["dataset", "task", "method"], sort=True):
        ok = group[group["status"] == "ok"]
        row = {"dataset": dataset, "task": task, "method": method, "runs": len(group),
               "diverged": int((group["status"] == "diverged").sum())}
        for column in ("test_accuracy", "train_seconds", "samples_per_second"):
            mean, low, high = mean_ci95(ok[column].tolist())
            if column == "test_accuracy":
                low, high = max(low, 0.0), min(high, 1.0)
            row.update({f"{column}_mean": mean, f"{column}_ci95_low": low, f"{column}_ci95_high": high})
        accuracy = ok["test_accuracy"].dropna()
        test_count = int(group["test_count"].max()) if "test_count" in group and group["test_count"].notna().any() \
            else None
        row["test_count"] = test_count
        row["test_accuracy_wilson_low"], row["test_accuracy_wilson_high"] = wilson95(row["test_accuracy_mean"],
                                                                                     test_count)
        row["test_accuracy_min"] = float(accuracy.min()) if len(accuracy) else math.nan
        row["test_accuracy_max"] = float(accuracy.max()) if len(accuracy) else math.nan
        counted = group["test_accuracy"].where(group["status"] == "ok", 0.0)
        row["test_accuracy_all_runs_mean"] = float(counted.mean()) if counted.notna().all() else math.nan
        for column in ("startup_seconds", "warmup_seconds"):   # fixed costs: the median says what a job pays
            values = group[column].dropna() if column in group else pd.Series(dtype=float)
            row[f"{column}_median"] = float(values.median()) if len(values) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def per_method_markdown(table: pd.DataFrame) -> str:
    lines = ["| dataset | task | method | runs | diverged | test accuracy (95% t over seeds) | test-set 95% Wilson "
             "| min–max over seeds | all runs (diverged = 0) | train s (95% CI) | samples/s | start-up s (median) "
             "| warm-up s (median) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def fmt(mean, low, high, scale=1.0, digits=3):
        if math.isnan(mean):
            return "n/a"
        if math.isnan(low):
            return f"{mean * scale:.{digits}f}"
        return f"{mean * scale:.{digits}f} ({low * scale:.{digits}f}–{high * scale:.{digits}f})"

    def span(low, high):
        return "n/a" if math.isnan(low) else f"{low * 100:.2f}–{high * 100:.2f}%"

    def percent(value):
        return "n/a" if math.isnan(value) else f"{value * 100:.2f}%"

    def seconds(value):
        return "n/a" if math.isnan(value) else f"{value:.2f}"

    for row in table.itertuples():
        accuracy = fmt(row.test_accuracy_mean, row.test_accuracy_ci95_low, row.test_accuracy_ci95_high, 100, 2)
        lines.append(
            f"| {row.dataset} | {row.task} | {row.method} | {row.runs} | {row.diverged} | "
            f"{accuracy}{'' if accuracy == 'n/a' else '%'} | "
            f"{span(row.test_accuracy_wilson_low, row.test_accuracy_wilson_high)} | "
            f"{span(row.test_accuracy_min, row.test_accuracy_max)} | {percent(row.test_accuracy_all_runs_mean)} | "
            f"{fmt(row.train_seconds_mean, row.train_seconds_ci95_low, row.train_seconds_ci95_high, 1, 2)} | "
            f"{row.samples_per_second_mean:,.0f} | {seconds(row.startup_seconds_median)} | "
            f"{seconds(row.warmup_seconds_median)} |")
    return "\n".join(lines) + "\n"


def scored_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs that report a test score: every run but the race's trials (scored on validation only)."""
    return frame[frame["role"] != "trial"] if "role" in frame else frame


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


def depth_sweep(runs: list[dict]) -> pd.DataFrame:
    """Every deep-ED run with its depth and rule, for the depth figure."""
    rows = []
    for run in runs:
        params = run["config"]["params"]
        if run["key"]["method"] != "ed_deep":
            continue
        rows.append({"dataset": run["data"]["name"], "task": run["key"]["task"], "method": run["key"]["entry"],
                     "seed": run["key"]["seed"], "depth": params["depth"], "rule": params["rule"],
                     "status": run["status"], "test_accuracy": run["metrics"]["test_accuracy"],
                     "seconds_per_epoch": run["timing"]["seconds_per_epoch"]})
    return pd.DataFrame(rows, columns=["dataset", "task", "method", "seed", "depth", "rule", "status",
                                       "test_accuracy", "seconds_per_epoch"])


# Speed rows whose side runs the same network, data and batch size as a reference entry does.
SAME_WORK = [
    ("ed_matrix_vs_ed_neuron", "candidate", "mnist01", "ed_matrix"),
    ("ed_matrix_vs_ed_neuron", "baseline", "mnist01", "ed_neuron"),
    ("ed_deep_vs_layer_by_layer", "candidate", "mnist01", "ed_deep"),
    ("bp_adam_vs_torch_best_b32_1t", "candidate", "mnist10", "bp_adam"),
    ("bp_sgd_vs_torch_best_b32_1t", "candidate", "mnist10", "bp_sgd"),
    ("bp_adam_vs_torch_best_b32_1t", "baseline", "mnist10", "torch"),
]


def throughput_check(summary_frame: pd.DataFrame, speed: pd.DataFrame | None, limit: float = 0.3) -> pd.DataFrame:
    """The training runs' median samples/s against the speed table's rate for the same work: the
    two come from separate processes and must agree within ``limit`` (relative)."""
    rows = []
    for comparison, side, task, method in SAME_WORK:
        runs = summary_frame[(summary_frame["task"] == task) & (summary_frame["method"] == method)
                             & (summary_frame["status"] == "ok")]
        timed = None if speed is None else speed[speed["comparison"] == comparison]
        if runs.empty or timed is None or timed.empty:
            continue
        ours = float(runs["samples_per_second"].median())
        theirs = float(timed[f"{side}_per_s"].iloc[0])
        difference = ours / theirs - 1
        rows.append({"task": task, "method": method, "runs_samples_per_second": ours, "speed_row": comparison,
                     "speed_side": side, "speed_samples_per_second": theirs, "relative_difference": difference,
                     "within_limit": bool(abs(difference) <= limit), "limit": limit})
    return pd.DataFrame(rows, columns=["task", "method", "runs_samples_per_second", "speed_row", "speed_side",
                                       "speed_samples_per_second", "relative_difference", "within_limit", "limit"])
