"""A large hyperparameter grid plans quickly (dry run), without training anything."""
import time

import pytest
import yaml

from conftest import snakemake

pytestmark = pytest.mark.workflow


def test_dry_run_of_a_thousand_job_grid(workdir, tmp_path):
    grid = yaml.safe_load((workdir / "config/smoke.yaml").read_text())
    grid["seeds"] = list(range(10))
    grid.pop("runs_per_job", None)   # one job per run: the count below is of train jobs
    # two entries swept; the others stay, as the race's contestants start from them
    grid["methods"] |= {
        "bp_adam": {"params": {"hidden": [16]},
                    "tasks": {"gates": {"params": {"batch_size": 4}}, "mnist10": {"budget": {"validation_size": 50}}},
                    "grid": {"lr": [0.001, 0.003, 0.01, 0.03, 0.1], "hidden": [[8], [16], [32], [64]],
                             "batch_size": [4]}},
        "ed_matrix": {"params": {}, "grid": {"alpha": [0.1, 0.2, 0.4, 0.8, 1.6], "hidden": [[8], [16], [32]]}},
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid))
    start = time.perf_counter()
    done = snakemake(workdir, "--dry-run", "--quiet", "rules", "--configfile", str(path), timeout=300)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    line = next(text for text in output.splitlines() if text.strip().startswith("train"))
    jobs = int(line.split()[-1])
    assert jobs >= 1000
    print(f"planned {jobs} training jobs in {elapsed:.1f} s")
