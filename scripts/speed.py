"""Run the speed benchmark and write speed.csv and its environment (``draw_speed.py`` draws its figures)."""
import argparse
import json
from pathlib import Path

from edbench import cli


def body():
    import pandas as pd

    from edbench import atomic, provenance, threads
    from edbench.data import arrays
    from edbench.speed import harness

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-npz", type=Path, required=True)
    parser.add_argument("--data-provenance", type=Path,
                        help="the data set's provenance record: the arrays are checked against its SHA-256")
    parser.add_argument("--settings", default="{}", help="the config's speed section as JSON")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--environment", type=Path, required=True)
    args = parser.parse_args()
    threads.size_numba_pool(2)
    settings = {**harness.DEFAULTS, **json.loads(args.settings)}
    data = json.loads(args.data_provenance.read_text()) if args.data_provenance else {}
    rows, limits = harness.run_all(arrays.load(args.data_npz, data.get("file_sha256")), settings, args.data_npz.stem)
    frame = pd.DataFrame(rows)
    atomic.write_csv(args.out, frame)
    atomic.write_json(args.environment, {"environment": provenance.environment(threads=int(frame["threads"].max())),
                                         "settings": settings,
                                         "data": {"file": str(args.data_npz), "file_sha256": data.get("file_sha256")},
                                         "limits": limits})


if __name__ == "__main__":
    cli.main(body)
