"""Each seed article's headline number next to ours, and whether we ran the article's protocol.

A claim (config/claims.yaml) names the runs or table rows that give our value (``select``) and the
protocol the article used (``requires``: data, sizes, epochs, network and optimiser settings, or a
speed row's workload). ``protocol_matches`` is computed field by field from what was actually run;
``protocol_differences`` lists every field that differs. A claim that states no protocol, or whose
fields the runs or table do not record, is reported as "not checked", never as a match. A claim
whose protocol cannot be written as fields (another implementation, another search) lists what is
known to differ (``differences``) and never matches.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

NOT_CHECKED = "not checked"
COLUMNS = ["source", "claim", "paper_value", "our_value", "unit", "protocol", "our_protocol", "protocol_matches",
           "protocol_differences", "seeds", "paper_text"]


CLAIM_KEYS = {"source", "claim", "paper_value", "unit", "metric", "select", "protocol"}


def load_claims(path: str | Path) -> list[dict]:
    """The claims file, checked: every claim names its value, what selects ours, and the metric."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"claims file {path} does not exist")
    claims = yaml.safe_load(path.read_text()) or []
    if not isinstance(claims, list):
        raise ValueError(f"claims file {path} must hold a list of claims")
    for number, claim in enumerate(claims):
        missing = sorted(CLAIM_KEYS - set(claim))
        if missing:
            raise ValueError(f"claims file {path}, claim {number} ({claim.get('claim', '?')!r}): "
                             f"missing key(s) {missing}")
        if "table" not in claim and not {"task", "entry"} <= set(claim["select"]):
            raise ValueError(f"claims file {path}, claim {number} ({claim['claim']!r}): select needs "
                             f"'task' and 'entry' (or the claim needs a 'table')")
    return claims


def run_protocol(run: dict) -> dict:
    """What a run actually did, in the vocabulary of a claim's ``requires``."""
    task_params = run["config"]["task_params"]
    return {"data": run["data"]["name"], "split": task_params.get("split", "first"),
            "train_size": run["data"]["task_train_count"], "test_size": run["data"]["task_test_count"],
            "epochs": task_params["epochs"], **run["config"]["params"]}


def _same(ours, required) -> bool:
    if isinstance(required, float) or isinstance(ours, float):
        try:
            return math.isclose(float(ours), float(required), rel_tol=1e-9, abs_tol=0.0)
        except (TypeError, ValueError):
            return False
    if isinstance(required, (list, tuple)) or isinstance(ours, (list, tuple)):
        return isinstance(ours, (list, tuple)) and isinstance(required, (list, tuple)) and \
            len(ours) == len(required) and all(_same(a, b) for a, b in zip(ours, required))
    return ours == required


def compare(done: list[dict], required: dict) -> tuple[object, list[str]]:
    """(True | False | NOT_CHECKED, differences) for the protocols ``done`` against ``required``."""
    if not required:
        return NOT_CHECKED, ["the claim states no protocol"]
    if not done:
        return False, ["not run"]
    differences, unrecorded = [], []
    for key, want in required.items():
        seen = [d[key] for d in done if key in d]
        if len(seen) < len(done):
            unrecorded.append(key)
            continue
        wrong = [value for value in seen if not _same(value, want)]
        if wrong:
            differences.append(f"{key}: ours {wrong[0]}, the article's {want}")
    if differences:
        return False, differences
    if unrecorded:
        return NOT_CHECKED, [f"{key}: not recorded" for key in unrecorded]
    return True, []


def _describe(protocol: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in protocol.items())


def _run_claim(claim: dict, runs: list[dict]) -> dict:
    select = claim["select"]
    chosen = [r for r in runs if r["key"]["task"] == select["task"] and r["key"]["entry"] == select["entry"]
              and r["status"] == "ok"]
    if "dataset" in select:
        chosen = [r for r in chosen if r["data"]["name"] == select["dataset"]]
    values = [v for v in (_metric(r, claim["metric"]) for r in chosen) if v is not None]
    done = [run_protocol(r) for r in chosen]
    matches, differences = compare(done, claim.get("requires", {}))
    shown = {k: done[0][k] for k in ("data", "train_size", "test_size", "epochs", *claim.get("requires", {}))
             if done and k in done[0]}
    return {"our_value": float(np.median(values)) * claim.get("scale", 1.0) if values else math.nan,
            "our_protocol": _describe(shown) if chosen else "not run", "protocol_matches": matches,
            "protocol_differences": "; ".join(differences), "seeds": len(values)}


def _table_claim(claim: dict, tables: dict[str, pd.DataFrame]) -> dict:
    frame = tables.get(claim["table"])
    if frame is None or frame.empty:
        return {"our_value": math.nan, "our_protocol": "not run", "protocol_matches": False,
                "protocol_differences": f"no {claim['table']} table", "seeds": 0}
    chosen = frame
    for key, value in claim["select"].items():
        chosen = chosen[chosen[key] == value]
    values = chosen[claim["metric"]].dropna()
    done = [{k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
            for row in chosen.to_dict("records")]
    matches, differences = compare(done, claim.get("requires", {}))
    if claim.get("differences"):
        matches, differences = False, list(claim["differences"])
    shown = {k: done[0][k] for k in claim.get("requires", {}) if done and k in done[0]}
    return {"our_value": float(values.median()) if len(values) else math.nan,
            "our_protocol": _describe(shown) or claim.get("our_protocol", ""), "protocol_matches": matches,
            "protocol_differences": "; ".join(differences),
            "seeds": int(chosen["seeds"].sum()) if "seeds" in chosen else len(values)}


def _metric(run: dict, metric: str):
    if metric in run["metrics"]:
        return run["metrics"][metric]
    return run["timing"].get(metric)


def table(runs: list[dict], claims: list[dict], tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per claim: the article's value, ours (median over seeds), and the protocol check."""
    rows = []
    for claim in claims:
        ours = _table_claim(claim, tables or {}) if "table" in claim else _run_claim(claim, runs)
        rows.append({"source": claim["source"], "claim": claim["claim"], "paper_value": claim["paper_value"],
                     "unit": claim["unit"], "protocol": claim["protocol"],
                     "paper_text": claim.get("paper_text", ""), **ours})
    return pd.DataFrame(rows, columns=COLUMNS)
