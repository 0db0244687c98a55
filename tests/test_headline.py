"""The README's headline tables are what scripts/headline.py prints from results/reference/, through
report/markdown.py."""
import subprocess
import sys
from types import SimpleNamespace

import pandas as pd
import pytest

from conftest import REPO
from edbench.report import gap, markdown


def test_each_documents_tables_are_printed_from_the_reference():
    """The README's answer, docs/results.md's tables and docs/deep_ed.md's study are what
    scripts/headline.py computes from results/reference/, each between its markers: a number typed
    in or left stale, a table without its marker, or a marker without its table fails."""
    done = subprocess.run([sys.executable, "scripts/headline.py", "results/reference"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=True)
    printed = markdown.document_tables(REPO / "results/reference")
    assert done.stdout == "".join(f"<!-- {name}: TABLE {table} -->\n\n{text}\n\n"
                                  for name, tables in printed.items() for table, text in tables.items())
    assert printed["README.md"] and printed["docs/results.md"]
    for name, tables in printed.items():
        text = (REPO / name).read_text()
        assert markdown.fill(text, tables, name) == text, f"{name}: run `python scripts/headline.py " \
            "results/reference --write`"


def test_fill_replaces_each_marked_table_and_names_what_is_missing():
    text = "intro\n<!-- TABLE a -->\n\n| old |\n\n<!-- /TABLE -->\nend\n"
    assert markdown.fill(text, {"a": "| new |"}) == "intro\n<!-- TABLE a -->\n\n| new |\n\n<!-- /TABLE -->\nend\n"
    with pytest.raises(ValueError, match=r"no marker for the tables \['b'\]"):
        markdown.fill(text, {"a": "x", "b": "y"})
    with pytest.raises(ValueError, match=r"without a computed table \['a'\]"):
        markdown.fill(text, {})


def test_write_refuses_before_touching_any_document(tmp_path):
    """A document without a marker for one of its tables stops --write before anything is written."""
    for name in ("README.md", "docs/results.md", "docs/deep_ed.md"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("no markers\n")
    done = subprocess.run([sys.executable, str(REPO / "scripts/headline.py"), str(REPO / "results/reference"),
                           "--write", "--root", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "nothing written" in done.stderr and "no marker for the tables" in done.stderr
    assert all((tmp_path / name).read_text() == "no markers\n"
               for name in ("README.md", "docs/results.md", "docs/deep_ed.md"))


def test_markdown_table_has_a_header_rule_and_a_line_per_row():
    assert markdown.table(["a", "b"], [[1, "x"], [2, ""]]) == "| a | b |\n|---|---|\n| 1 | x |\n| 2 |  |"


def test_race_table_counts_the_seeds_that_reached_each_target():
    headline = pd.DataFrame([{"dataset": "mnist", "task": "mnist10", "contestant": "bp_adam", "runs": 3,
                              "test_accuracy_mean": 0.9712, "test_accuracy_ci95_low": 0.97,
                              "test_accuracy_ci95_high": 0.9724, "train_seconds_median": 12.34, "train_count": 10000,
                              "epochs": 5, "note": float("nan")}])
    targets = pd.DataFrame([
        {"dataset": "mnist", "task": "mnist10", "contestant": "bp_adam", "target": 0.9, "reached": 3, "seeds": 3,
         "median_seconds": 1.234},
        {"dataset": "mnist", "task": "mnist10", "contestant": "bp_adam", "target": 0.99, "reached": 0, "seeds": 3,
         "median_seconds": float("nan")}])
    row = markdown.race_table(headline, targets).splitlines()[2]
    assert row == ("| mnist10 | `bp_adam` | 97.1% (97.0–97.2) | 12.3 | 10,000 × 5 "
                   "| ≥0.9: 1.23 s (3/3); ≥0.99: never (0/3) | 3 |  |")


def test_speed_cells_show_the_spread_and_the_other_load_when_measured():
    once = SimpleNamespace(ratio=2.0, measurements=1)
    five = SimpleNamespace(ratio=2.0, ratio_low=1.5, ratio_high=2.5, measurements=5)
    assert (markdown.ratio(once), markdown.ratio(five)) == ("2.00", "2.00 (1.50–2.50 in 5)")
    assert markdown.other_load(SimpleNamespace(other_load_cores=float("nan"))) == "not checked"
    assert markdown.other_load(SimpleNamespace(other_load_cores=0.25, attempts=2)) == "0.25 (2 tries)"


def test_cost_table_lists_each_workflow_run_then_the_runs_end_to_end():
    summary = pd.DataFrame({"startup_seconds": [1.0, None], "warmup_seconds": [0.5, 0.5],
                            "train_seconds": [3598.0, 3600.0]})
    usage = {"runs": [
        {"command": "--cores 2", "jobs": 700, "cores": 2, "wall_seconds": 3600.0, "share_of_a_core": 0.012},
        {"command": "--cores 2 speed", "jobs": 2, "cores": 2, "wall_seconds": 360.0, "share_of_a_core": 0.5}]}
    assert markdown.cost_table(summary, usage).splitlines()[2:] == [
        "| `snakemake --cores 2` | 700 | 2 | 1.00 h | 1.2% |",
        "| `snakemake --cores 2 speed` | 2 | 2 | 0.10 h | 50.0% |",
        "| the 2 runs' own time, end to end |  | 1 | 2.00 h |  |"]


def test_edges_table_lists_only_values_at_an_edge():
    """search_edges.csv leaves at_edge empty (NaN when read) where a value is inside its space."""
    edges = pd.DataFrame({"task": "mnist10", "budget": "long", "contestant": "torch",
                          "parameter": ["lr", "hidden", "rule", "batch_size"], "value": ["0.1", "[512]", "x", "32"],
                          "position": [0.5, 1.0, float("nan"), 0.3],
                          "at_edge": [float("nan"), "high", "unordered", float("nan")]})
    rows = markdown.edges_table(edges).splitlines()[2:]
    assert rows == ["| mnist10 | long | `torch` | hidden | [512] | high | 1.00 |"]
    assert markdown.edges_table(edges.iloc[[0, 2]]) == "No winner's value sits at an edge of its search space."


def test_gap_table_shows_hundredths_and_ends_intervals_at_100_percent():
    gap = pd.DataFrame([{"dataset": "mnist", "task": "mnist01", "budget": "long", "ed": "ed_deep",
                         "ed_test_accuracy": 0.99885, "ed_low": 0.997, "ed_high": 1.0007, "backprop": "bp_adam",
                         "backprop_test_accuracy": 0.9992, "backprop_low": 0.998, "backprop_high": 1.0004,
                         "difference": -0.0003, "difference_low": -0.0027, "difference_high": 0.0021}])
    assert markdown.gap_table(gap).splitlines()[2] == (
        "| mnist01 | long | `ed_deep` 99.89% (99.70–100.00) | `bp_adam` 99.92% (99.80–100.00) "
        "| -0.03 (-0.27 to +0.21) |")


@pytest.mark.parametrize("ratio, said", [(0.96, "1.04x faster"), (1.0, "in backprop's time"), (1.08, "1.08x slower"),
                                         (0.4, "2.5x faster"), (14.5, "14.5x slower")])
def test_the_verdicts_pace_keeps_a_near_tie_visible(ratio, said):
    assert gap.pace(ratio) == said
