"""Reorganising the code changes no result: the smoke run's accuracies and losses are those stored
from the code before the package was laid out by concern (bit for bit: JSON keeps every digit of a
float). Every protocol run and race trial of that run still exists under its path; the race's
winners have since been named per budget (successive halving), so they are not compared."""
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.workflow

BEFORE = Path(__file__).parent / "data" / "smoke_metrics_before_restructure.json"


def test_smoke_results_match_the_stored_values(smoke_run):
    before = {path: metrics for path, metrics in json.loads(BEFORE.read_text()).items()
              if "/tuned-" not in path}
    now = smoke_run.metrics
    missing = sorted(set(before) - set(now))
    assert missing == [], f"runs of the stored smoke run no longer made: {missing[:5]}"
    changed = [path for path in before if now[path] != before[path]]
    first = f": {now[changed[0]]} != {before[changed[0]]}" if changed else ""
    assert changed == [], f"{len(changed)} runs changed, e.g. {changed[:3]}{first}"
