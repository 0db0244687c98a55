"""The per-method table (per_method.csv and per_method.md): every (data set, task, entry) over its seeds."""
from __future__ import annotations

import math

import pandas as pd

from edbench.report.intervals import mean_ci95, wilson95


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
