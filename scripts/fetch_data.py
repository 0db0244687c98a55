"""Fetch one dataset (checksummed, cached) and write its arrays and provenance."""
import argparse
import json
from pathlib import Path

from edbench import cli


def body():
    from edbench import atomic
    from edbench.data import catalog, fetch

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", choices=sorted(catalog.CATALOG))
    parser.add_argument("--npz", type=Path, required=True)
    parser.add_argument("--provenance", type=Path, required=True)
    parser.add_argument("--raw-dir", type=Path, required=True)
    parser.add_argument("--data-config", default="{}", help="the config's data: section as JSON")
    args = parser.parse_args()
    data = json.loads(args.data_config)
    record = fetch.prepare(args.dataset, args.npz, args.raw_dir, mirrors=data.get("mirrors"),
                           local_dirs=data.get("local_dirs", ()), offline_fallback=data.get("offline_fallback", True),
                           timeout=data.get("timeout_seconds", 30), packaged=data.get("packaged", True))
    atomic.write_json(args.provenance, record)


if __name__ == "__main__":
    cli.main(body)
