"""Reorganising the code changes no result: the smoke run's accuracies, losses and race choices are
those stored from the code before the package was laid out by concern (bit for bit: JSON keeps
every digit of a float)."""
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.workflow

BEFORE = Path(__file__).parent / "data" / "smoke_metrics_before_restructure.json"


def test_smoke_results_match_the_stored_values(smoke_run):
    before = json.loads(BEFORE.read_text())
    now = smoke_run.metrics
    assert sorted(now) == sorted(before), "the smoke config's runs changed"
    changed = [path for path in before if now[path] != before[path]]
    first = f": {now[changed[0]]} != {before[changed[0]]}" if changed else ""
    assert changed == [], f"{len(changed)} runs changed, e.g. {changed[:3]}{first}"
