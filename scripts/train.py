"""Train one (dataset, task, method, seed) job and write its result JSON."""
import argparse
import json
from pathlib import Path

import _cli


def body():
    from edbench import config, runner

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True, help="the job spec as JSON (see edbench.config.expand)")
    parser.add_argument("--data-npz", type=Path)
    parser.add_argument("--data-provenance", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    spec = json.loads(args.spec)
    config.check_spec(spec)
    if spec["task"] != "gates":
        spec["data_npz"] = str(args.data_npz)
        spec["data"] = json.loads(args.data_provenance.read_text())
    runner.run_to_file(spec, args.out)


if __name__ == "__main__":
    _cli.main(body)
