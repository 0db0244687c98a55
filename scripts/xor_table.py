"""Reproduce Kaneko's XOR table: epochs to convergence per hidden size, over seeds."""
import argparse
import json
from pathlib import Path

from edbench import cli


def body():
    from edbench import atomic, threads
    from edbench.report import xor_convergence

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", required=True, help="the config's xor_convergence section as JSON")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    threads.limit(1)
    settings = xor_convergence.settings_from({"xor_convergence": json.loads(args.settings)})
    atomic.write_csv(args.out, xor_convergence.table(settings))


if __name__ == "__main__":
    cli.main(body)
