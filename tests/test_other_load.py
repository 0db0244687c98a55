"""The speed benchmark's watch on other work: a busy neighbour is seen, this process's own work is not,
and a disturbed row is measured again and its least disturbed attempt kept."""
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edbench.speed import harness, other_load


def _stat_line(busy_ticks: int, idle_ticks: int = 10_000) -> str:
    # user nice system idle iowait irq softirq steal guest guest_nice
    return f"cpu  {busy_ticks} 0 0 {idle_ticks} 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n"


def test_own_work_is_not_counted_and_the_rest_is(tmp_path):
    stat = tmp_path / "stat"
    ticks = other_load.os.sysconf("SC_CLK_TCK")
    stat.write_text(_stat_line(1000))
    with other_load.OtherLoad(str(stat)) as load:
        start = time.process_time()
        while time.process_time() - start < 0.3:
            pass
        own = time.process_time() - start
        # the machine was busy with this process's work and 0.5 s of someone else's
        stat.write_text(_stat_line(1000 + round((own + 0.5) * ticks)))
    assert load.other_seconds == pytest.approx(0.5, abs=0.05)
    assert load.cores == pytest.approx(0.5 / load.seconds, rel=0.1)
    assert load.disturbed(0.2) is True and load.disturbed(5.0) is False


def test_unreadable_counters_are_not_checked(tmp_path):
    with other_load.OtherLoad(str(tmp_path / "missing")) as load:
        pass
    assert load.cores is None and load.disturbed(0.2) is None


@pytest.mark.skipif(not Path(other_load.STAT).exists(), reason="needs Linux's /proc/stat")
def test_a_busy_neighbour_is_seen():
    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        with other_load.OtherLoad() as load:
            time.sleep(1.0)
    finally:
        neighbour.kill()
        neighbour.wait()
    assert load.cores > 0.5 and load.disturbed(0.2) is True


class _ScriptedLoad:
    """Stands in for OtherLoad: each block reports the next scripted number of cores, and whether
    that is a disturbance (by default: above the limit; a pair says it outright, as a short block
    within the counters' resolution would)."""
    script: list = []

    def __enter__(self):
        step = _ScriptedLoad.script.pop(0)
        self.cores, self.verdict = step if isinstance(step, tuple) else (step, None)
        return self

    def __exit__(self, *exc):
        pass

    def disturbed(self, limit):
        return self.cores > limit if self.verdict is None else self.verdict


@pytest.mark.parametrize("loads, attempts, kept_cores, made", [
    ([0.0, 0.9], 3, 0.0, 1),          # quiet at once: measured once
    ([0.9, 0.5, 0.05], 3, 0.05, 3),   # measured until quiet
    ([0.9, 0.4, 0.7], 3, 0.4, 3),     # never quiet: the least disturbed attempt is kept
    ([0.9, 0.1], 1, 0.9, 1),          # one attempt allowed
    ([(0.3, True), (0.5, False)], 3, 0.5, 2),   # the undisturbed attempt, though its load is higher
])
def test_a_disturbed_row_is_measured_again(monkeypatch, loads, attempts, kept_cores, made):
    monkeypatch.setattr(harness, "OtherLoad", _ScriptedLoad)
    _ScriptedLoad.script = list(loads)
    calls = iter(range(100))

    def timed():
        n = next(calls)
        return float(n), float(n) + 0.5

    (base_s, cand_s), load, attempts_made = harness.least_disturbed(timed, attempts, 0.2)
    assert (load.cores, attempts_made) == (kept_cores, made)
    cores = [step[0] if isinstance(step, tuple) else step for step in loads]
    assert (base_s, cand_s) == (cores.index(kept_cores), cores.index(kept_cores) + 0.5)
