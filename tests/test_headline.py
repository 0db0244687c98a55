"""The README's headline tables are what scripts/headline.py prints from results/reference/, through
report/markdown.py."""
import subprocess
import sys
from types import SimpleNamespace

import pandas as pd

from conftest import REPO
from edbench.report import markdown


def test_each_documents_tables_are_printed_from_the_reference():
    """The README's answer, docs/results.md's tables and docs/deep_ed.md's study are what
    scripts/headline.py prints from results/reference/: a number typed in, or left stale, fails."""
    done = subprocess.run([sys.executable, "scripts/headline.py", "results/reference"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=True)
    printed = markdown.document_tables(REPO / "results/reference")
    assert done.stdout == "".join(f"<!-- {name}: TABLE {table} -->\n\n{text}\n\n"
                                  for name, tables in printed.items() for table, text in tables.items())
    assert printed["README.md"] and printed["docs/results.md"]
    for name, tables in printed.items():
        text = (REPO / name).read_text()
        missing = [table for table, body in tables.items() if body not in text]
        assert not missing, f"{name}: tables differ from headline.py's output: {missing}"


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
