"""The run files read back, and the tables with a row per run (summary), per curve point (curves),
per deep-ED run (depth sweep) and per data set used (data provenance)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from edbench.report import run_files

SUMMARY_COLUMNS = [
    "dataset", "task", "method", "seed", "status", "test_accuracy", "train_seconds", "samples_per_second",
    "warmup_seconds", "startup_seconds", "validation_accuracy",
    "final_train_loss", "train_cpu_seconds", "peak_memory_mb", "epochs", "diverged_epoch", "implementation",
    "config_dataset", "train_count", "test_count", "threads", "data_sha256", "git_commit", "role", "stage",
    "contestant", "trial",
]


def read_runs(paths) -> list[dict]:
    """Every run of ``paths``, all read (and checked) before any table is made."""
    return [run_files.read_run(path) for path in sorted(map(Path, paths))]


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
            "role": key.get("role", "protocol"), "stage": key.get("stage"), "contestant": key.get("contestant"),
            "trial": key.get("trial"),
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
    """One row per run and epoch: its losses and accuracies, and ``seconds``, the training time to
    the end of that epoch (absent in runs from before it was recorded)."""
    rows = []
    for run in runs:
        key = run["key"]
        seconds = run["timing"].get("cumulative_seconds") or []
        for index, point in enumerate(run["metrics"]["curve"]):
            rows.append({"dataset": run["data"]["name"], "task": key["task"], "method": key["entry"],
                         "seed": key["seed"], **point, "seconds": seconds[index] if index < len(seconds) else None})
    return pd.DataFrame(rows, columns=["dataset", "task", "method", "seed", "epoch", "train_loss", "test_accuracy",
                                       "validation_accuracy", "samples", "seconds"])


TRIAL_ROLES = ("trial", "promoted")


def scored_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs that report a test score: every run but the race's trials and promoted trials (scored
    on validation only)."""
    return frame[~frame["role"].isin(TRIAL_ROLES)] if "role" in frame else frame


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
