"""The figures, read back as matplotlib objects: no panel's legend holds more than 8 entries, each
method has its one colour in every figure, and the headline, speed and gap figures show what they
promise. The landing page leads with the answer."""
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import Collection
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from edbench.report import drawing, figures, headline_figure, landing, palette, race_figures, speed_figures

REPO = Path(__file__).resolve().parents[1]
CLAIMS = REPO / "config/claims.yaml"
CONTESTANTS = list(palette.METHOD_STYLE)
BUDGETS = {"short": 2, "long": 4}
TASKS = {"mnist01": [0.9, 0.99], "mnist10": [0.5]}


def protocol_rows(rng) -> list[dict]:
    """Each method's own entry, two variants, a learning-rate grid and a depth sweep, two seeds each."""
    entries = {m: m for m in CONTESTANTS if m != "bp_adam_fullbatch"}
    entries |= {"torch_seed002": "torch", "ed_matrix_float32": "ed_matrix", "bp_sgd_grid.lr-0.05": "bp_sgd",
                "bp_sgd_grid.lr-0.2": "bp_sgd", "ed_deep_sweep.depth-1.rule-faithful": "ed_deep",
                "ed_deep_sweep.depth-8.rule-faithful": "ed_deep"}
    return [{"dataset": "mnist", "task": task, "method": entry, "seed": seed, "status": "ok",
             "test_accuracy": rng.uniform(0.5, 1), "train_seconds": rng.uniform(0.1, 5),
             "samples_per_second": rng.uniform(1e3, 1e5), "implementation": method, "role": "protocol",
             "stage": None, "contestant": None}
            for task in TASKS for entry, method in entries.items() for seed in (0, 1)]


def winner_rows(rng) -> list[dict]:
    return [{"dataset": "mnist", "task": task, "method": f"tuned-{budget}-{c}", "seed": seed, "status": "ok",
             "test_accuracy": rng.uniform(0.5, 1), "train_seconds": rng.uniform(0.1, 5), "samples_per_second": 1e4,
             "implementation": "bp_adam" if c == "bp_adam_fullbatch" else c, "role": "winner", "stage": budget,
             "contestant": c} for task in TASKS for budget in BUDGETS for c in CONTESTANTS for seed in (0, 1)]


def curve_rows(summary: pd.DataFrame, rng) -> list[dict]:
    rows = []
    for run in summary.itertuples():
        epochs = BUDGETS.get(run.stage, 3)
        for epoch in range(1, epochs + 1):
            rows.append({"dataset": run.dataset, "task": run.task, "method": run.method, "seed": run.seed,
                         "epoch": epoch, "train_loss": 1 / epoch, "test_accuracy": 0.5 + 0.1 * epoch,
                         "validation_accuracy": min(1.0, 0.5 + 0.12 * epoch + rng.uniform(0, 0.05)),
                         "samples": 100 * epoch, "seconds": 0.01 * epoch * (1 + rng.uniform())})
    return rows


def headline_rows(rng) -> list[dict]:
    """A winner per task, budget and contestant; ed_neuron capped, far slower and worse than the rest."""
    rows = []
    for task in TASKS:
        for budget, epochs in BUDGETS.items():
            for c in CONTESTANTS:
                capped = c == "ed_neuron"
                mean = 0.3 if capped else rng.uniform(0.9, 0.99)
                rows.append({"dataset": "mnist", "task": task, "budget": budget, "contestant": c,
                             "method": "bp_adam" if c == "bp_adam_fullbatch" else c, "runs": 2, "diverged": 0,
                             "test_accuracy_mean": mean, "test_accuracy_ci95_low": 0.0 if capped else mean - 0.01,
                             "test_accuracy_ci95_high": 1.0 if capped else min(1.0, mean + 0.01),
                             "train_seconds_median": 500.0 if capped else rng.uniform(0.5, 5), "test_count": 1000,
                             "epochs": 1 if capped else epochs,
                             "capped": "epochs,train_size" if capped else None, "note": None})
    return rows


def target_rows() -> list[dict]:
    return [{"dataset": "mnist", "task": task, "budget": budget, "contestant": c, "target": target, "seeds": 2,
             "reached": 0 if c == "ed_deep" else 2, "never_reached": 2 if c == "ed_deep" else 0,
             "median_seconds": np.nan if c == "ed_deep" else (300.0 if c == "ed_neuron" else 0.02 * (1 + i)),
             "median_samples": 100, "median_epoch": 1, "epochs_run": epochs}
            for task, targets in TASKS.items() for budget, epochs in BUDGETS.items()
            for i, c in enumerate(CONTESTANTS) for target in targets]


def gap_rows() -> list[dict]:
    return [{"dataset": "mnist", "task": task, "budget": budget, "ed": "ed_matrix", "ed_test_accuracy": 0.95,
             "ed_low": 0.94, "ed_high": 0.96, "backprop": "torch", "backprop_test_accuracy": 0.97,
             "backprop_low": 0.965, "backprop_high": 0.975, "difference": -0.02, "difference_low": -0.03,
             "difference_high": -0.01, "target": target, "ed_seconds": 0.5, "backprop_seconds": 0.1,
             "ed_reached": 2, "backprop_reached": 2, "time_ratio": 5.0,
             "verdict": f"ED (`ed_matrix`) against backprop (`torch`): 2.00 points behind on {task} {budget}."}
            for task, targets in TASKS.items() for budget in BUDGETS for target in targets]


def speed_rows() -> list[dict]:
    """One row per question of the speed figure."""
    def row(comparison, candidate, baseline, ratio, **more):
        return {"comparison": comparison, "candidate": candidate, "baseline": baseline, "ratio": ratio,
                "ratio_low": ratio * 0.9, "ratio_high": ratio * 1.1, "measurements": 3, "fraction_of_bound": 0.4,
                "bound": "compute", "floor": 1.5, "floor_met": ratio >= 1.5, "task": "mnist10", "batch_size": 32,
                "dtype": "float64", "threads": 1, "optimizer": "adam", "baseline_per_s": 1000.0,
                "candidate_per_s": 1000.0 * ratio, **more}
    return [row("ed_matrix_vs_ed_neuron", "ed_matrix (online)", "ed_neuron", 1382.0),
            row("ed_deep_vs_layer_by_layer", "ed_deep", "layer-by-layer ED", 16.8),
            row("fd_step_aware_vs_naive_gates", "step-aware fd (forward)", "naive fd (forward)", 209.0),
            row("seed002_numpy_protocol", "bp_adam", "torch (adam, default)", 1.2),
            row("bp_adam_vs_torch_default_b32_1t", "bp_adam", "torch (adam, default)", 2.06),
            row("bp_sgd_vs_torch_best_b32_1t", "bp_sgd", "torch (sgd, default)", 0.8, optimizer="sgd"),
            # the ratio of each side's median time can lie outside the range of the draws' own ratios
            row("bp_adam_vs_torch_default_b32_2t", "bp_adam", "torch (adam, default)", 9.2, threads=2,
                ratio_low=9.4, ratio_high=11.0)]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """A folder of the tables the figures read, shaped as scripts/tables.py writes them."""
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("tables")
    summary = pd.DataFrame(protocol_rows(rng) + winner_rows(rng))
    sweep = summary[summary["method"].str.startswith("ed_deep_sweep")].assign(
        depth=lambda f: f["method"].str.extract(r"depth-(\d+)")[0].astype(int), rule="faithful",
        seconds_per_epoch=0.1)
    best = pd.DataFrame([{"dataset": "mnist", "task": t, "budget": b, "contestant": c, "method": c, "trained_by": c,
                          "validation_accuracy": v, "chosen": v == 0.9} for t in TASKS for b in BUDGETS
                         for c in CONTESTANTS for v in (0.8, 0.9)])
    xor = pd.DataFrame([{"method": "ed_matrix", "hidden": h, "seed": s, "epochs": 40 + s, "max_epochs": 1000}
                        for h in (8, 16) for s in range(3)])
    frames = {"summary": summary, "curves": pd.DataFrame(curve_rows(summary, rng)), "depth_sweep": sweep,
              "headline": pd.DataFrame(headline_rows(rng)), "time_to_target": pd.DataFrame(target_rows()),
              "best_settings": best, "gap": pd.DataFrame(gap_rows()), "xor_convergence": xor,
              "speed": pd.DataFrame(speed_rows())}
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def drawn(tables, tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    return out, figures.draw_figures(tables, out, CLAIMS, list(TASKS), tables / "speed.csv")


def legends(figure) -> list:
    return [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None] + list(figure.legends)


def colour_of(artist) -> str | None:
    if isinstance(artist, Line2D):
        return to_hex(artist.get_color())
    if isinstance(artist, Collection) and len(artist.get_facecolor()):
        return to_hex(artist.get_facecolor()[0])
    if isinstance(artist, Patch):
        return to_hex(artist.get_facecolor())
    return None


def method_colours(figure) -> list[tuple[str, str]]:
    """(method, colour) of every legend entry and text label in ``figure`` that names a method."""
    found = []
    for legend in legends(figure):
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            name = text.get_text().split(" ")[0]
            if name in palette.METHOD_STYLE and colour_of(handle) is not None:
                found.append((name, colour_of(handle)))
    for ax in figure.axes:
        for text in ax.texts:
            name = text.get_text().split(" ")[0]
            if name in palette.METHOD_STYLE:
                found.append((name, to_hex(text.get_color())))
    return found


def check_legends_and_colours(drawn_figures: dict) -> set[str]:
    """Assert both promises of the figures over ``drawn_figures``; return the figures that name a method."""
    for name, figure in drawn_figures.items():
        for legend in legends(figure):
            assert len(legend.get_texts()) <= drawing.LEGEND_LIMIT, f"{name}: {len(legend.get_texts())} entries"
    seen, naming = {}, set()
    for name, figure in drawn_figures.items():
        for method, colour in method_colours(figure):
            naming.add(name)
            seen.setdefault(method, {}).setdefault(colour, set()).add(name)
    for method, colours in seen.items():
        assert set(colours) == {palette.METHOD_STYLE[method][0]}, f"{method} drawn in {colours}"
    return naming


def test_no_legend_over_eight_entries_and_one_colour_per_method(drawn):
    _, drawn_figures = drawn
    naming = check_legends_and_colours(drawn_figures)
    assert {"headline_mnist01", "headline_mnist10", "convergence", "accuracy_vs_time", "learning_curves",
            "speed"} <= naming


def test_every_figure_is_written(drawn):
    out, drawn_figures = drawn
    for name in drawn_figures:
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert {"convergence", "gap", "seed_protocols", "grids", "search", "time_to_target"} <= set(drawn_figures)


def test_headline_is_error_against_time_on_log_axes_and_the_capped_entry_never_sets_them(drawn):
    _, drawn_figures = drawn
    figure = drawn_figures["headline_mnist10"]
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["mnist10 on mnist: short budget, 2 epochs",
                                                 "mnist10 on mnist: long budget, 4 epochs"]
    for ax in panels:
        assert ax.get_xscale() == ax.get_yscale() == "log"
        assert len(ax.get_xticks()) >= 3 and all(label.get_text() for label in ax.get_xticklabels())
        assert ax.get_xlim()[1] < 500 and ax.get_ylim()[1] < 0.7   # ed_neuron's 500 s and 70% error
        texts = [t.get_text() for t in ax.texts]
        assert any(t.startswith("not drawn: ed_neuron (capped") for t in texts)
        labelled = {t.split(" ")[0] for t in texts}
        assert set(CONTESTANTS) - {"ed_neuron"} <= labelled
        assert any(line.get_linestyle() == "--" for line in ax.get_lines()), "no Pareto front"


def test_pareto_front_keeps_the_points_no_one_beats():
    points = pd.DataFrame({"train_seconds_median": [1.0, 2.0, 3.0, 4.0], "error": [0.1, 0.2, 0.05, 0.06]})
    assert headline_figure.pareto_front(points).index.tolist() == [0, 2]


def test_speed_bars_are_grouped_by_question_and_carry_ratio_and_fraction_of_bound(drawn):
    _, drawn_figures = drawn
    figure = drawn_figures["speed"]
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    assert titles == ["ED against its baselines", "finite differences, step-aware against naive",
                      "the seed articles' protocols", "backprop against PyTorch, 1 thread",
                      "backprop against PyTorch, 2 threads"]
    notes = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert len(notes) == len(speed_rows())
    assert all(note.startswith("×") and "% of compute bound" in note for note in notes)
    assert "×1,382 · 40% of compute bound" in notes
    assert any("below its ×1.5 floor" in note for note in notes)


def test_question_names_every_row():
    assert speed_figures.question("bp_sgd_vs_torch_best_b512_4t") == "backprop against PyTorch, 4 threads"
    assert speed_figures.question("something_new") == speed_figures.OTHER


def test_landing_page_leads_with_the_verdicts_then_the_embedded_headline_figures(drawn, tables):
    out, _ = drawn
    page = (out / figures.LANDING_PAGE).read_text()
    assert page.startswith("The answer\n==========")
    verdict = page.index("ED (``ed_matrix``) against backprop (``torch``)")
    figure = page.index(".. figure:: data:image/png;charset=utf8;filename=headline_mnist01.png;base64,")
    table = page.index(".. list-table::")
    assert verdict < figure < table
    assert max(len(line) for line in page.splitlines()) < 1000   # docutils skips a line over 10,000
    assert "*(capped)*" in page


def test_landing_page_without_a_race_says_so():
    page = landing.landing(pd.DataFrame(columns=["task"]), pd.DataFrame(), [])
    assert "runs no race" in page


def test_a_race_entry_takes_its_contestants_style_and_a_variant_its_methods_colour():
    assert palette.style("tuned-long-bp_adam") == palette.METHOD_STYLE["bp_adam"]
    assert palette.style("trial-bp_adam_fullbatch-03") == palette.METHOD_STYLE["bp_adam_fullbatch"]
    assert palette.colour("torch_seed002", "torch") == palette.METHOD_STYLE["torch"][0]
    assert palette.method_in("step-aware fd (forward)") == "fd"
    assert palette.method_in("bp_adam_fullbatch") == "bp_adam_fullbatch"
    assert palette.method_in("torch ED (compiled)") == "torch"


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("capped, expected", [(["", ""], set()), (["", "hidden"], {"ed_deep"})])
def test_capped_contestants_read_back_from_a_table(tmp_path, capped, expected):
    """As the headline table is read back from its CSV, where an empty "capped" is NaN (a column of
    them is float): no warning, and only a contestant with a capped dimension is named."""
    pd.DataFrame({"task": ["mnist10"] * 2, "budget": ["long"] * 2, "contestant": ["bp_adam", "ed_deep"],
                  "capped": capped}).to_csv(tmp_path / "headline.csv", index=False)
    headline = pd.read_csv(tmp_path / "headline.csv")
    assert race_figures.capped_contestants(headline, "mnist10", "long") == expected


def test_log_ticks_are_readable_at_every_span():
    assert drawing.log_ticks(0.004, 0.06) == [0.005, 0.01, 0.02, 0.05]
    assert drawing.log_ticks(0.3, 0.9) == [0.3, 0.4, 0.5, 0.6, 0.8]
    assert drawing.log_ticks(1, 1e6) == [1, 10, 100, 1e3, 1e4, 1e5, 1e6]
    assert len(drawing.log_ticks(1e-6, 1e6)) <= 8


@pytest.mark.workflow
def test_smoke_run_figures_keep_both_promises(smoke_run, tmp_path):
    """The same checks on the figures drawn from the smoke run's own tables."""
    tables = tmp_path / "tables"
    shutil.copytree(smoke_run.workdir / "results/tables", tables)
    races = sorted(pd.read_csv(tables / "headline.csv")["task"].unique())
    drawn_figures = figures.draw_figures(tables, tmp_path / "figures", CLAIMS, races)
    naming = check_legends_and_colours(drawn_figures)
    assert {f"headline_{task}" for task in races} | {"convergence", "accuracy_vs_time"} <= naming
