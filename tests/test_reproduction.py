"""reproduction.csv: protocol_matches is computed field by field, and unchecked fields say so."""
import pandas as pd
import pytest

from edbench import tasks
from edbench.methods.ed import rule as ed
from edbench.report import reproduction, xor_convergence

REPO_CLAIMS = "config/claims.yaml"


def fake_run(entry="ed_matrix", task="mnist01", data="mnist", train=1000, test=2115, epochs=1, seed=0, **params):
    return {"key": {"task": task, "entry": entry, "method": entry, "seed": seed}, "status": "ok",
            "data": {"name": data, "task_train_count": train, "task_test_count": test},
            "config": {"task_params": {"epochs": epochs}, "params": {"hidden": [16], "alpha": 0.1, **params}},
            "metrics": {"test_accuracy": 0.98}, "timing": {"train_seconds": 1.0}}


CLAIM = {"source": "s", "claim": "c", "paper_value": 0.98, "unit": "fraction", "metric": "test_accuracy",
         "select": {"task": "mnist01", "entry": "ed_matrix"}, "protocol": "p",
         "requires": {"data": "mnist", "train_size": 1000, "test_size": 2115, "epochs": 1, "hidden": [16],
                      "alpha": 0.1}}


def row(runs, claim=CLAIM, tables=None):
    return reproduction.table(runs, [claim], tables).iloc[0]


def test_matching_protocol_is_true():
    got = row([fake_run(), fake_run(seed=1)])
    assert str(got["protocol_matches"]) == "True" and got["protocol_differences"] == "" and got["seeds"] == 2


@pytest.mark.parametrize("change", [{"data": "mnist_mlxtend5k"}, {"train": 800}, {"test": 1000}, {"epochs": 2},
                                    {"hidden": [16, 16]}, {"alpha": 0.8}])
def test_any_mismatching_field_gives_false_and_names_it(change):
    got = row([fake_run(), fake_run(seed=1, **change)])
    assert str(got["protocol_matches"]) == "False"
    assert got["protocol_differences"]


def test_unrecorded_field_is_not_checked_and_no_protocol_is_not_checked():
    claim = {**CLAIM, "requires": {**CLAIM["requires"], "momentum": 0.9}}
    got = row([fake_run()], claim)
    assert got["protocol_matches"] == reproduction.NOT_CHECKED and "momentum" in got["protocol_differences"]
    got = row([fake_run()], {k: v for k, v in CLAIM.items() if k != "requires"})
    assert got["protocol_matches"] == reproduction.NOT_CHECKED


def test_claim_not_run_is_false():
    assert row([fake_run(entry="other")])["protocol_matches"] == False  # noqa: E712


def test_table_claim_compares_the_rows_workload():
    speed = pd.DataFrame([{"comparison": "x", "ratio": 9.0, "samples": 1000, "network": "784-16-1"}])
    claim = {"source": "s", "claim": "c", "paper_value": 8, "unit": "ratio", "table": "speed",
             "metric": "ratio", "select": {"comparison": "x"}, "protocol": "p",
             "requires": {"samples": 1000, "network": "784-16-1"}}
    assert row([], claim, {"speed": speed})["protocol_matches"] == True  # noqa: E712
    mismatched = {**claim, "requires": {"samples": 2000, "network": "784-16-1"}}
    assert row([], mismatched, {"speed": speed})["protocol_matches"] == False  # noqa: E712
    unrecorded = {**claim, "requires": {"threads": 1}}
    assert row([], unrecorded, {"speed": speed})["protocol_matches"] == reproduction.NOT_CHECKED


def test_claims_file_is_checked(tmp_path):
    claims = reproduction.load_claims(REPO_CLAIMS)
    seed_results = [c for c in claims if c.get("table") != "speed"]
    assert seed_results and all("requires" in c or "differences" in c for c in seed_results)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        reproduction.load_claims(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {source: s, claim: c, paper_value: 1, unit: u, metric: m, protocol: p, select: {task: t}}\n")
    with pytest.raises(ValueError, match="'task' and 'entry'"):
        reproduction.load_claims(bad)


def test_kaneko_conventions_hold():
    """Kaneko's program: pattern i sets input s to bit s of i (00, 10, 01, 11), and the cell after
    the output, his first hidden cell, is inhibitory. Either drifting fails here."""
    assert tasks.GATE_INPUTS.tolist() == [[0, 0], [1, 0], [0, 1], [1, 1]]
    assert ed.hidden_signs(4).tolist() == [-1.0, 1.0, -1.0, 1.0]
    used = xor_convergence.settings_used("ed_matrix", 8)
    assert used["pattern_order"] == "00 10 01 11" and used["first_hidden_cell"] == "inhibitory"
    kaneko = [c for c in reproduction.load_claims(REPO_CLAIMS) if c["source"] == "Kaneko"]
    frame = xor_convergence.medians(pd.DataFrame([{"method": "ed_matrix", "hidden": 8, "seed": 0, "epochs": 70,
                                                   "converged": True, "max_epochs": 1000, "threshold": 0.1,
                                                   **used}]))
    assert row([], kaneko[0], {"xor_convergence": frame})["protocol_matches"] == True  # noqa: E712


def test_seed002_accuracy_is_shown_on_both_splits_and_the_split_is_checked():
    """The first-N run differs from the article's protocol in its split alone; the run on the
    article's split matches it."""
    entries = ("bp_adam_fullbatch", "bp_adam_fullbatch_seed002_split")
    claims = [c for c in reproduction.load_claims(REPO_CLAIMS)
              if c["select"].get("entry") in entries and c["metric"] == "test_accuracy"]
    runs = [fake_run(entry, task="mnist10", train=1000, test=1000, epochs=100, hidden=[128], activation="relu",
                     lr=0.01, batch_size=1000) for entry in entries]
    runs[1]["config"]["task_params"]["split"] = "seed002"
    rows = reproduction.table(runs, claims).set_index("claim")
    assert len(rows) == 2 and len(set(rows["paper_value"])) == 1
    first, article = (rows.loc[c["claim"]] for c in claims)
    assert str(first["protocol_matches"]) == "False"
    assert first["protocol_differences"] == "split: ours first, the article's seed002"
    assert str(article["protocol_matches"]) == "True" and "split=seed002" in article["our_protocol"]


def test_a_claim_made_under_another_protocol_lists_what_differs_and_never_matches():
    """The published evaluation's claim (ED below backprop per data set) is read from gap.csv: our
    value is the difference, and the protocol, which no field can state, is listed, not matched."""
    gap = pd.DataFrame([{"task": "mnist10", "budget": "long", "target": t, "difference": -0.004} for t in (0.9, 0.95)]
                       + [{"task": "mnist10", "budget": "short", "target": 0.9, "difference": 0.01}])
    claims = [c for c in reproduction.load_claims(REPO_CLAIMS) if c.get("table") == "gap"]
    assert {c["select"]["task"] for c in claims} == {"digits10", "mnist10", "fashion10"}
    row = reproduction.table([], claims, {"gap": gap}).set_index("claim").loc[claims[1]["claim"]]
    assert row["our_value"] == pytest.approx(-0.004)
    assert row["protocol_matches"] != reproduction.NOT_CHECKED and not row["protocol_matches"]
    assert "successive-halving" in row["protocol_differences"]
