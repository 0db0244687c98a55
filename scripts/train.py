"""Train (dataset, task, method, seed) jobs and write one result JSON each.

One run: ``--spec SPEC --out OUT``. A batch of small runs in one process (so the interpreter and
imports are paid once): repeat ``--spec SPEC --out OUT --log LOG`` per run; each run then logs to
its own LOG.
"""
import argparse
import contextlib
import json
import logging
import signal
from pathlib import Path

from edbench import cli


def body():
    from edbench import config, runner, tasks

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True, action="append",
                        help="the job spec as JSON (see edbench.config.expand); repeat for a batch")
    parser.add_argument("--out", type=Path, required=True, action="append", help="one per --spec")
    parser.add_argument("--log", type=Path, action="append", help="one per --spec, for a batch")
    parser.add_argument("--data-npz", type=Path)
    parser.add_argument("--data-provenance", type=Path)
    args = parser.parse_args()
    logs = args.log or [None] * len(args.spec)
    if not len(args.spec) == len(args.out) == len(logs):
        parser.error("give one --out (and, if any, one --log) per --spec")
    specs = [json.loads(text) for text in args.spec]
    for spec in specs:   # a bad spec fails the batch before any training
        config.check_spec(spec)
    data = json.loads(args.data_provenance.read_text()) if args.data_provenance else None
    signal.signal(signal.SIGTERM, _interrupt)
    written = []
    try:
        for spec, out, log in zip(specs, args.out, logs):
            if tasks.get(spec["task"]).reads_data:
                spec["data_npz"] = str(args.data_npz)
                spec["data"] = data
            with _run_log(log):
                runner.run_to_file(spec, out)
            written.append(out)
    except KeyboardInterrupt:
        # A batch is one job: stopped, it leaves none of its results (as a one-run job, whose
        # write is atomic), so Snakemake finds nothing half-done and a plain rerun resumes.
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def _run_log(path):
    """Send logging to ``path`` too (when given) while one run of a batch trains."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.getLogger().handlers[0].formatter)
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


if __name__ == "__main__":
    cli.main(body)
