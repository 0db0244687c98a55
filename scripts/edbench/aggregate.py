"""Collect run JSONs into tidy tables: one row per run, per-method summaries, curves, reproduction."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

SUMMARY_COLUMNS = [
    "dataset", "task", "method", "seed", "status", "test_accuracy", "train_seconds", "samples_per_second",
    "validation_accuracy",
    "final_train_loss", "train_cpu_seconds", "peak_memory_mb", "epochs", "diverged_epoch", "implementation",
    "config_dataset", "train_count", "test_count", "threads", "data_sha256", "git_commit",
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
            "validation_accuracy": metrics.get("validation_accuracy"),
            "final_train_loss": metrics["final_train_loss"], "train_cpu_seconds": timing["train_cpu_seconds"],
            "peak_memory_mb": timing["peak_memory_mb"], "epochs": metrics["epochs_run"],
            "diverged_epoch": run["diverged_epoch"], "implementation": key["method"],
            "config_dataset": key["dataset"], "train_count": run["data"]["task_train_count"],
            "test_count": run["data"]["task_test_count"], "threads": run["config"]["threads"],
            "data_sha256": run["data"].get("sha256"), "git_commit": run["provenance"]["git_commit"],
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
    return pd.DataFrame(rows, columns=["dataset", "task", "method", "seed", "epoch", "train_loss", "test_accuracy"])


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


def per_method(frame: pd.DataFrame) -> pd.DataFrame:
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
        rows.append(row)
    return pd.DataFrame(rows)


def per_method_markdown(table: pd.DataFrame) -> str:
    lines = ["| dataset | task | method | runs | diverged | test accuracy (95% CI) | train s (95% CI) | samples/s |",
             "|---|---|---|---|---|---|---|---|"]

    def fmt(mean, low, high, scale=1.0, digits=3):
        if math.isnan(mean):
            return "n/a"
        if math.isnan(low):
            return f"{mean * scale:.{digits}f}"
        return f"{mean * scale:.{digits}f} ({low * scale:.{digits}f}–{high * scale:.{digits}f})"

    for row in table.itertuples():
        lines.append(
            f"| {row.dataset} | {row.task} | {row.method} | {row.runs} | {row.diverged} | "
            f"{fmt(row.test_accuracy_mean, row.test_accuracy_ci95_low, row.test_accuracy_ci95_high, 100, 2)}% | "
            f"{fmt(row.train_seconds_mean, row.train_seconds_ci95_low, row.train_seconds_ci95_high, 1, 2)} | "
            f"{row.samples_per_second_mean:,.0f} |")
    return "\n".join(lines) + "\n"


def load_claims(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        return []
    return yaml.safe_load(path.read_text()) or []


def best_settings(frame: pd.DataFrame) -> pd.DataFrame:
    """For every grid (entries named ``family.key-value...``): the setting with the best mean
    validation accuracy, and its test accuracy. The choice never looks at test accuracy."""
    rows = []
    grid = frame[frame["method"].str.contains(".", regex=False)].copy()
    grid["family"] = grid["method"].str.split(".", n=1).str[0]
    for (dataset, task, family), group in grid.groupby(["dataset", "task", "family"], sort=True):
        scores = group[group["status"] == "ok"].groupby("method").agg(
            validation=("validation_accuracy", "mean"), test=("test_accuracy", "mean"), seeds=("seed", "count"))
        row = {"dataset": dataset, "task": task, "grid": family, "settings_tried": group["method"].nunique()}
        if scores["validation"].isna().all():
            rows.append({**row, "best_setting": None, "validation_accuracy": math.nan, "test_accuracy": math.nan,
                         "seeds": 0, "note": "no validation split (set validation_size); nothing chosen"})
            continue
        best = scores["validation"].idxmax()
        rows.append({**row, "best_setting": best.split(".", 1)[1], "validation_accuracy": scores.loc[best, "validation"],
                     "test_accuracy": scores.loc[best, "test"], "seeds": int(scores.loc[best, "seeds"]),
                     "note": "chosen on validation accuracy"})
    return pd.DataFrame(rows, columns=["dataset", "task", "grid", "settings_tried", "best_setting",
                                       "validation_accuracy", "test_accuracy", "seeds", "note"])


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


def _table_claim(claim: dict, tables: dict[str, pd.DataFrame]) -> dict:
    frame = tables.get(claim["table"])
    select = claim["select"]
    if frame is None or frame.empty:
        return {"our_value": math.nan, "our_protocol": "not run", "protocol_matches": False, "seeds": 0}
    chosen = frame
    for key, value in select.items():
        chosen = chosen[chosen[key] == value]
    values = chosen[claim["metric"]].dropna()
    return {"our_value": float(values.median()) if len(values) else math.nan,
            "our_protocol": claim.get("our_protocol", ""), "protocol_matches": bool(len(values)),
            "seeds": int(chosen["seeds"].sum()) if "seeds" in chosen else len(values)}


def reproduction(runs: list[dict], claims: list[dict], tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Each claim's paper value next to our median over seeds, with the protocol we actually ran."""
    rows = []
    for claim in claims:
        if "table" in claim:
            rows.append({"source": claim["source"], "claim": claim["claim"], "paper_value": claim["paper_value"],
                         "unit": claim["unit"], "protocol": claim["protocol"],
                         "paper_text": claim.get("paper_text", ""), **_table_claim(claim, tables or {})})
            continue
        select = claim["select"]
        chosen = [r for r in runs if r["key"]["task"] == select["task"] and r["key"]["entry"] == select["method"]
                  and r["status"] == "ok"]
        if "dataset" in select:
            chosen = [r for r in chosen if r["data"]["name"] == select["dataset"]]
        values = [_metric(r, claim["metric"]) for r in chosen]
        values = [v for v in values if v is not None]
        our = float(np.median(values)) * claim.get("scale", 1.0) if values else math.nan
        ran = _protocol_ran(chosen)
        required = claim.get("requires", {})
        matches = bool(chosen) and all(ran.get(k) == v for k, v in required.items())
        rows.append({
            "source": claim["source"], "claim": claim["claim"], "paper_value": claim["paper_value"],
            "our_value": our, "unit": claim["unit"], "protocol": claim["protocol"],
            "our_protocol": ", ".join(f"{k}={v}" for k, v in ran.items()) if chosen else "not run",
            "protocol_matches": matches, "seeds": len(values), "paper_text": claim.get("paper_text", ""),
        })
    return pd.DataFrame(rows, columns=["source", "claim", "paper_value", "our_value", "unit", "protocol",
                                       "our_protocol", "protocol_matches", "seeds", "paper_text"])


def _metric(run: dict, metric: str):
    if metric in run["metrics"]:
        return run["metrics"][metric]
    return run["timing"].get(metric)


def _protocol_ran(runs: list[dict]) -> dict:
    if not runs:
        return {}
    first = runs[0]
    task_params = first["config"]["task_params"]
    ran = {"data": first["data"]["name"], "train_size": first["data"]["task_train_count"],
           "test_size": first["data"]["task_test_count"], "epochs": task_params["epochs"]}
    for key in ("depth", "hidden", "batch_size", "alpha", "rule"):
        if key in first["config"]["params"]:
            ran[key] = first["config"]["params"][key]
    return ran
