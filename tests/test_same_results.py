"""Reorganising the code changes no result: the smoke run's accuracies and losses are those stored
from the code before the package was laid out by concern: on the machine that stored them bit for
bit, and on another within a relative 1e-5, since its BLAS kernels round matrix products
differently in the last digits (float32 runs differ from the 8th digit). A moved or changed
computation changes far more. Every protocol run and race trial of that run still exists under its path; the race's
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
    changed = [path for path in before if not same(now[path], before[path])]
    first = f": {now[changed[0]]} != {before[changed[0]]}" if changed else ""
    assert changed == [], f"{len(changed)} runs changed, e.g. {changed[:3]}{first}"


def same(now, before) -> bool:
    """Equal, except that numbers may differ by a relative 1e-5 (another machine's rounding)."""
    if isinstance(before, dict):
        return isinstance(now, dict) and now.keys() == before.keys() and all(same(now[k], before[k]) for k in before)
    if isinstance(before, list):
        return isinstance(now, list) and len(now) == len(before) and all(map(same, now, before))
    if isinstance(before, float) and isinstance(now, (int, float)) and not isinstance(now, bool):
        return now == pytest.approx(before, rel=1e-5, abs=1e-12)
    return now == before


def test_same_allows_last_digits_only():
    assert same({"loss": [0.14202436163615859, None], "status": "ok"}, {"loss": [0.1420243594009844, None],
                                                                        "status": "ok"})
    assert not same({"accuracy": 0.99}, {"accuracy": 0.995})
    assert not same({"status": "failed"}, {"status": "ok"})
    assert not same({"curve": [0.1]}, {"curve": [0.1, 0.2]})
