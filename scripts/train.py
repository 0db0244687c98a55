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
    from edbench import runner

    parser = argparse.ArgumentParser(description=__doc__)
    # a bad spec fails the batch before any training
    parser.add_argument("--spec", required=True, action="append", type=_checked_spec,
                        help="the run spec as JSON (edbench.spec.RunSpec); repeat for a batch")
    parser.add_argument("--out", type=Path, required=True, action="append", help="one per --spec")
    parser.add_argument("--log", type=Path, action="append", help="one per --spec, for a batch")
    parser.add_argument("--data-npz", type=Path)
    parser.add_argument("--data-provenance", type=Path)
    args = parser.parse_args()
    logs = args.log or [None] * len(args.spec)
    if not len(args.spec) == len(args.out) == len(logs):
        parser.error("give one --out (and, if any, one --log) per --spec")
    if (args.data_npz is None) != (args.data_provenance is None):
        parser.error("give --data-npz and --data-provenance together")
    data = None
    if args.data_npz is not None:
        data = runner.DataFile(args.data_npz, json.loads(args.data_provenance.read_text()))
    signal.signal(signal.SIGTERM, _interrupt)
    written = []
    try:
        for spec, out, log in zip(args.spec, args.out, logs):
            with _run_log(log):
                runner.run_to_file(spec, out, data)
            written.append(out)
    except KeyboardInterrupt:
        # A batch is one job: stopped, it leaves none of its results (as a one-run job, whose
        # write is atomic), so Snakemake finds nothing half-done and a plain rerun resumes.
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _checked_spec(text: str):
    """``--spec``'s value read and checked; argparse names the option in the error and exits."""
    from edbench.methods.base import ConfigError
    from edbench.spec import RunSpec

    try:
        spec = RunSpec.from_json(text)
        spec.check()
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return spec


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
