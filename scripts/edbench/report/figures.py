"""Comparison figures drawn with seaborn from the tidy tables."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from edbench import atomic  # noqa: E402

# One colour and marker per method, the same in every figure: the race's contestants (and the
# protocol entries of the same name). Other entries take the next free colours in name order.
METHOD_STYLE = {
    "fd": ("#7f7f7f", "X"),
    "bp_sgd": ("#1f77b4", "o"),
    "bp_adam": ("#ff7f0e", "s"),
    "bp_adam_fullbatch": ("#bcbd22", "P"),
    "torch": ("#d62728", "D"),
    "ed_neuron": ("#9467bd", "v"),
    "ed_matrix": ("#2ca02c", "^"),
    "ed_deep": ("#8c564b", "*"),
}
_OTHER_COLOURS = sns.color_palette("tab20", 20).as_hex()
_OTHER_MARKERS = ["o", "s", "D", "^", "v", "<", ">", "p", "h", "8"]


def method_styles(names) -> tuple[dict, dict]:
    """(palette, markers) for these method names: fixed for the known methods, stable for the rest."""
    palette, markers = {}, {}
    others = sorted(set(names) - set(METHOD_STYLE))
    for name in set(names) & set(METHOD_STYLE):
        palette[name], markers[name] = METHOD_STYLE[name]
    for index, name in enumerate(others):
        palette[name] = _OTHER_COLOURS[index % len(_OTHER_COLOURS)]
        markers[name] = _OTHER_MARKERS[index % len(_OTHER_MARKERS)]
    return palette, markers


def _save(grid, path: Path) -> None:
    figure = getattr(grid, "figure", grid)
    atomic.write_atomic(path, lambda tmp: figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(figure)


def _excluded_note(frame: pd.DataFrame) -> str:
    bad = frame[frame["status"] != "ok"]
    if bad.empty:
        return ""
    names = ", ".join(sorted({f"{r.method}/{r.task}/seed{r.seed}" for r in bad.itertuples()}))
    return f"left out (diverged): {names}"


def _plain_log_ticks(grid, axis: str) -> None:
    for ax in grid.axes.flat:
        getattr(ax, f"{axis}axis").set_minor_formatter(matplotlib.ticker.NullFormatter())


def _label(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["panel"] = frame["task"] + " · " + frame["dataset"]
    return frame


def accuracy_vs_time(summary: pd.DataFrame, path: Path) -> None:
    ok = _label(summary[summary["status"] == "ok"])
    palette, markers = method_styles(ok["method"])
    grid = sns.relplot(data=ok, x="train_seconds", y="test_accuracy", hue="method", style="method", col="panel",
                       kind="scatter", s=70, facet_kws={"sharex": False, "sharey": False}, height=3.4,
                       palette=palette, markers=markers)
    grid.set(xscale="log")
    _plain_log_ticks(grid, "x")
    grid.set_axis_labels("training time (s, log)", "test accuracy")
    grid.set_titles("{col_name}")
    grid.figure.suptitle(("Accuracy against training time, one point per seed. " + _excluded_note(summary)).strip(),
                         y=1.04, fontsize=9)
    _save(grid, path)


def learning_curves(curve_table: pd.DataFrame, summary: pd.DataFrame, path: Path) -> None:
    ok_runs = summary[summary["status"] == "ok"][["dataset", "task", "method", "seed"]]
    curves = _label(curve_table.merge(ok_runs, on=["dataset", "task", "method", "seed"]))
    grid = sns.relplot(data=curves, x="epoch", y="train_loss", hue="method", col="panel", kind="line",
                       errorbar=("pi", 100), facet_kws={"sharex": False, "sharey": False}, height=3.4,
                       palette=method_styles(curves["method"])[0])
    grid.set(yscale="log")
    _plain_log_ticks(grid, "y")
    grid.set_axis_labels("epoch", "training loss (log)")
    grid.set_titles("{col_name}")
    grid.figure.suptitle(("Learning curves: mean over seeds, band = min–max. " + _excluded_note(summary)).strip(),
                         y=1.04, fontsize=9)
    _save(grid, path)


def time_per_method(summary: pd.DataFrame, path: Path) -> None:
    ok = _label(summary[summary["status"] == "ok"])
    grid = sns.catplot(data=ok, x="samples_per_second", y="method", col="panel", kind="bar", errorbar=("pi", 100),
                       sharex=False, height=3.4, hue="method", palette=method_styles(ok["method"])[0], legend=False)
    grid.set(xscale="log")
    _plain_log_ticks(grid, "x")
    grid.set_axis_labels("training samples per second (log)", "")
    grid.set_titles("{col_name}")
    grid.figure.suptitle(("Training throughput per method, bar = mean over seeds, line = min–max. " +
                          _excluded_note(summary)).strip(), y=1.04, fontsize=9)
    _save(grid, path)


def _placeholder(path: Path, message: str) -> None:
    figure, ax = plt.subplots(figsize=(5, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=10)
    _save(figure, path)


def depth_sweep(sweep: pd.DataFrame, path: Path) -> None:
    ok = sweep[sweep["status"] == "ok"]
    if ok.empty:
        _placeholder(path, "no ed_deep runs in this config")
        return
    ok = _label(ok)
    grid = sns.relplot(data=ok, x="depth", y="test_accuracy", hue="rule", style="rule", col="panel", kind="line",
                       marker="o", errorbar=("pi", 100), facet_kws={"sharey": False}, height=3.4)
    grid.set(xscale="log")
    grid.set_axis_labels("hidden layers of 2+2 cells (log)", "test accuracy")
    grid.set_titles("{col_name}")
    grid.figure.suptitle(("Deep ED: accuracy against depth, faithful and bidirectional rules; mean, band min–max. "
                          + _excluded_note(sweep)).strip(), y=1.04, fontsize=9)
    _save(grid, path)


def xor_convergence(xor: pd.DataFrame, kaneko: dict[int, float], path: Path) -> None:
    if xor is None or xor.empty:
        _placeholder(path, "XOR table not run")
        return
    filled = xor.assign(epochs=xor["epochs"].fillna(xor["max_epochs"] + 1))
    figure, ax = plt.subplots(figsize=(5.5, 3.6))
    sns.stripplot(data=filled, x="hidden", y="epochs", color="0.6", alpha=0.6, size=4, ax=ax, label="ours, per seed")
    medians = filled.groupby("hidden")["epochs"].median()
    positions = {h: i for i, h in enumerate(sorted(filled["hidden"].unique()))}
    ax.plot([positions[h] for h in medians.index], medians.values, "o-", color="C0", label="ours, median")
    known = [(positions[h], v) for h, v in kaneko.items() if h in positions]
    if known:
        ax.plot(*zip(*known), "s--", color="C3", label="Kaneko (reported)")
    ax.set_yscale("log")
    ax.set_xlabel("hidden cells")
    ax.set_ylabel("epochs until summed |e| < 0.1 (log)")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize=8)
    ax.set_title(f"ED on XOR, {filled['seed'].nunique()} seeds per size", fontsize=9)
    _save(figure, path)


def speed(table: pd.DataFrame, path: Path) -> None:
    """Rates of both sides of every comparison, log scale, with the ratio written on each pair."""
    rows = []
    for r in table.itertuples():
        rows.append({"comparison": r.comparison, "side": "baseline: " + r.baseline, "rate": r.baseline_per_s,
                     "kind": "baseline"})
        rows.append({"comparison": r.comparison, "side": "candidate: " + r.candidate, "rate": r.candidate_per_s,
                     "kind": "candidate"})
    frame = pd.DataFrame(rows)
    figure, ax = plt.subplots(figsize=(8, 0.55 * len(table) + 1.2))
    sns.barplot(data=frame, y="comparison", x="rate", hue="kind", ax=ax, palette=["0.65", "C0"])
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("work per second (samples or gradients, log)")
    ax.set_ylabel("")
    for i, r in enumerate(table.itertuples()):
        mark = "" if r.floor_met is None or pd.isna(r.floor_met) else (" ✓" if r.floor_met else " ✗ below floor")
        ax.text(max(r.baseline_per_s, r.candidate_per_s) * 1.3, i, f"×{r.ratio:.1f}{mark}", va="center", fontsize=8)
    ax.set_xlim(right=ax.get_xlim()[1] * 20)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Each method against its baseline, interleaved in one process (medians)", fontsize=9)
    _save(figure, path)


def speed_by_batch(table: pd.DataFrame, path: Path) -> None:
    """Throughput against batch size: ours, PyTorch at its defaults and at its fastest path, per
    optimizer (columns) and thread count (rows), from the ``bp_*_vs_torch_*`` rows of speed.csv."""
    races = table[table["comparison"].str.match(r"bp_(adam|sgd)_vs_torch_(default|best)_")]
    rows = []
    for r in races.itertuples():
        label = "torch default" if "_vs_torch_default_" in r.comparison else "torch best"
        rows.append({"optimizer": r.optimizer, "threads": r.threads, "batch_size": r.batch_size,
                     "implementation": label, "rate": r.baseline_per_s})
        rows.append({"optimizer": r.optimizer, "threads": r.threads, "batch_size": r.batch_size,
                     "implementation": "ours (NumPy)", "rate": r.candidate_per_s})
    frame = pd.DataFrame(rows, columns=["optimizer", "threads", "batch_size", "implementation", "rate"])
    # ours is timed twice per point (against each PyTorch side): plot the median of both
    frame = frame.groupby(["optimizer", "threads", "batch_size", "implementation"], as_index=False)["rate"].median()
    grid = sns.relplot(data=frame, x="batch_size", y="rate", hue="implementation", style="implementation",
                       col="optimizer", row="threads", kind="line", markers=True, height=2.8, aspect=1.2,
                       facet_kws={"sharey": "row"},
                       hue_order=["ours (NumPy)", "torch best", "torch default"],
                       style_order=["ours (NumPy)", "torch best", "torch default"])
    grid.set(xscale="log")
    for ax in grid.axes.flat:
        ax.set_xticks(sorted(frame["batch_size"].unique()))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    grid.set_axis_labels("batch size", "samples per second")
    grid.figure.suptitle("784-128-10 training throughput, interleaved medians", fontsize=9, y=1.02)
    _save(grid, path)


FIGURES = {
    "accuracy_vs_time": accuracy_vs_time,
    "time_per_method": time_per_method,
}


def pareto_front(points: pd.DataFrame) -> pd.DataFrame:
    """The points no other point beats on both time (lower) and accuracy (higher), by time."""
    front, best = [], -float("inf")
    for row in points.sort_values(["train_seconds_median", "test_accuracy_mean"], ascending=[True, False]).itertuples():
        if row.test_accuracy_mean > best:
            front.append(row.Index)
            best = row.test_accuracy_mean
    return points.loc[front]


def headline(table: pd.DataFrame, task: str, path: Path) -> None:
    """One point per race winner on ``task``: mean test accuracy with its 95% interval over seeds
    against median training time, the Pareto front drawn through the points no one beats."""
    rows = table[(table["task"] == task) & table["test_accuracy_mean"].notna()]
    if rows.empty:
        _placeholder(path, f"no race winners on {task} in this config")
        return
    figure, ax = plt.subplots(figsize=(6.4, 4.2))
    palette, markers = method_styles(rows["contestant"])
    for row in rows.itertuples():
        low = row.test_accuracy_mean - row.test_accuracy_ci95_low if pd.notna(row.test_accuracy_ci95_low) else 0
        high = row.test_accuracy_ci95_high - row.test_accuracy_mean if pd.notna(row.test_accuracy_ci95_high) else 0
        label = row.contestant + (" (capped)" if isinstance(row.capped, str) and row.capped else "")
        ax.errorbar(row.train_seconds_median, row.test_accuracy_mean, yerr=[[low], [high]], fmt=markers[row.contestant],
                    color=palette[row.contestant], markersize=8, capsize=3, label=label)
    front = pareto_front(rows)
    ax.step(front["train_seconds_median"], front["test_accuracy_mean"], where="post", color="0.3", lw=1,
            ls="--", label="Pareto front", zorder=0)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("training time, median over seeds (s, log)")
    ax.set_ylabel("test accuracy (mean, 95% CI over seeds)")
    datasets = ", ".join(sorted(rows["dataset"].unique()))
    ax.set_title(f"{task} ({datasets}): each method at its tuned setting", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    _save(figure, path)


def time_to_target(table: pd.DataFrame, path: Path) -> None:
    """Median seconds to first reach each validation target, per race winner; a seed that never
    reached it is counted beside the bar."""
    if table.empty:
        _placeholder(path, "no race in this config")
        return
    frame = table.assign(panel=table["task"] + " ≥ " + table["target"].map("{:.3g}".format))
    palette, markers = method_styles(frame["contestant"])
    panels = list(dict.fromkeys(frame["panel"]))
    order = sorted(frame["contestant"].unique())
    figure, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False, sharey=True)
    for ax, panel in zip(axes[0], panels):
        part = frame[frame["panel"] == panel]
        reached = part[part["median_seconds"].notna()]
        for row in reached.itertuples():
            ax.scatter(row.median_seconds, order.index(row.contestant), color=palette[row.contestant],
                       marker=markers[row.contestant], s=60)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        left = reached["median_seconds"].min() if len(reached) else 1.0
        for row in part[part["never_reached"] > 0].itertuples():
            ax.text(left, order.index(row.contestant), f"{row.never_reached}/{row.seeds} never", va="center",
                    fontsize=7, color="0.3")
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(-0.5, len(order) - 0.5)
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel("median seconds to target (log)")
    figure.suptitle("Time to first reach each validation target (race winners)", fontsize=9)
    figure.tight_layout()
    _save(figure, path)


def search(best: pd.DataFrame, path: Path) -> None:
    """Validation accuracy of every trial of every search, the chosen one ringed."""
    if best.empty:
        _placeholder(path, "no race in this config")
        return
    own = best[best["trained_by"] == best["method"]]
    palette, _ = method_styles(own["contestant"])
    order = sorted(own["contestant"].unique())
    grid = sns.catplot(data=own, x="validation_accuracy", y="contestant", col="task", hue="contestant", order=order,
                       palette=palette, kind="strip", jitter=0.15, height=3.4, sharex=False, legend=False)
    for ax, task in zip(grid.axes.flat, grid.col_names):
        chosen = own[(own["task"] == task) & own["chosen"]]
        ax.scatter(chosen["validation_accuracy"], [order.index(c) for c in chosen["contestant"]], s=140,
                   facecolors="none", edgecolors="black", label="chosen")
    grid.set_axis_labels("validation accuracy of each trial", "")
    grid.figure.suptitle("Each method's search: one dot per trial, the winner ringed", y=1.04, fontsize=9)
    _save(grid, path)


def draw_all(summary: pd.DataFrame, curve_table: pd.DataFrame, out_dir: Path, sweep: pd.DataFrame | None = None,
             xor: pd.DataFrame | None = None, kaneko: dict[int, float] | None = None) -> list[Path]:
    out_dir = Path(out_dir)
    if "role" in summary:   # trials are scored on validation only: the search figure shows them
        summary = summary[summary["role"] != "trial"]
    paths = []
    for name, draw in FIGURES.items():
        paths.append(out_dir / f"{name}.png")
        draw(summary, paths[-1])
    paths.append(out_dir / "learning_curves.png")
    learning_curves(curve_table, summary, paths[-1])
    paths.append(out_dir / "depth_sweep.png")
    depth_sweep(sweep if sweep is not None else pd.DataFrame(columns=["status"]), paths[-1])
    paths.append(out_dir / "xor_convergence.png")
    xor_convergence(xor, kaneko or {}, paths[-1])
    return paths
