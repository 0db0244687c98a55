"""Train (dataset, task, method, seed) jobs and write one result JSON each.

One run: ``--spec SPEC --out OUT``. A batch of small runs in one process (so the interpreter and
imports are paid once): repeat ``--spec SPEC --out OUT --log LOG`` per run; each run then logs to
its own LOG. The workflow passes ``--threads-granted``, the threads Snakemake granted the job: the
process then claims that many cores of its own and no run uses more threads than it was granted.
"""
import argparse
import contextlib
import json
import logging
import signal
from pathlib import Path

from edbench import cli

# How long a job waits for cores that other timed jobs hold before it runs unpinned (and says so).
CORE_WAIT_SECONDS = 3600


def body():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True, action="append",
                        help="the run spec as JSON (edbench.spec.RunSpec); repeat for a batch")
    parser.add_argument("--out", type=Path, required=True, action="append", help="one per --spec")
    parser.add_argument("--log", type=Path, action="append", help="one per --spec, for a batch")
    parser.add_argument("--data-npz", type=Path)
    parser.add_argument("--data-provenance", type=Path)
    parser.add_argument("--threads-granted", type=int,
                        help="the threads Snakemake granted this job: claim that many cores, run on no more")
    args = parser.parse_args()
    logs = args.log or [None] * len(args.spec)
    if not len(args.spec) == len(args.out) == len(logs):
        parser.error("give one --out (and, if any, one --log) per --spec")
    if (args.data_npz is None) != (args.data_provenance is None):
        parser.error("give --data-npz and --data-provenance together")
    # before NumPy, numba or torch start a thread: the threads they start keep the pinning
    placement = _placement(args.threads_granted)
    specs = [_checked_spec(parser, text) for text in args.spec]   # a bad spec fails the batch before any training
    from edbench import runner

    data = None
    if args.data_npz is not None:
        data = runner.DataFile(args.data_npz, json.loads(args.data_provenance.read_text()))
    signal.signal(signal.SIGTERM, _interrupt)
    written = []
    try:
        for spec, out, log in zip(specs, args.out, logs):
            with _run_log(log):
                runner.run_to_file(spec, out, data, placement)
            written.append(out)
    except KeyboardInterrupt:
        # A batch is one job: stopped, it leaves none of its results (as a one-run job, whose
        # write is atomic), so Snakemake finds nothing half-done and a plain rerun resumes.
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _placement(granted: int | None):
    """What this process runs on: outside the workflow (no grant) as it is; in it, the cores it
    claims for the threads it was granted."""
    from edbench import threads

    if granted is None:
        return threads.AS_ASKED
    cores = threads.claim_cores(min(granted, threads.usable_cpus()), wait_seconds=CORE_WAIT_SECONDS)
    if not cores.pinned:
        logging.getLogger("edbench.threads").warning("running unpinned: %s", cores.reason)
    return threads.Placement(granted, cores)


def _checked_spec(parser: argparse.ArgumentParser, text: str):
    """``--spec``'s value read and checked; a bad one is named as argparse names a bad argument."""
    from edbench.methods.base import ConfigError
    from edbench.spec import RunSpec

    try:
        spec = RunSpec.from_json(text)
        spec.check()
    except ConfigError as error:
        parser.error(f"argument --spec: {error}")
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
