"""What a result needs to be traced back (package versions, CPU, threads, git commit), and what the
workflow's own process cost."""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from edbench import atomic
from edbench.threads import in_effect as threads_in_effect

PACKAGES = ("numpy", "torch", "pandas", "seaborn", "scikit-learn", "snakemake", "pooch", "numba")
REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent
# Sub-packages a training job never imports (tests/test_runner.py checks it), so editing the
# tables, figures or speed code does not rerun the training.
REPORTING_ONLY = ("report", "speed")


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# Untracked files here change what runs (a new method module, a config), so they make a tree dirty.
CODE_PATHS = ("Snakefile", "scripts", "workflow", "config")


def git_commit(root: Path = REPO_ROOT) -> str | None:
    """HEAD, with "-dirty" if a tracked file differs from it or an untracked file lies in CODE_PATHS."""
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=True)
        commit = out.stdout.strip()
        changed = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        untracked = subprocess.run(["git", "-C", str(root), "ls-files", "--others", "--exclude-standard", "--",
                                    *CODE_PATHS], capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        return commit + ("-dirty" if changed or untracked else "")
    except (OSError, subprocess.SubprocessError):
        return None


def process_age_seconds() -> float:
    """Seconds since this process started: interpreter start-up and every import included."""
    try:   # Linux: the start time in clock ticks since boot, against the clock since boot
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        return time.clock_gettime(time.CLOCK_BOOTTIME) - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        import psutil  # elsewhere; its start time rests on a boot time rounded to the second

        return time.time() - psutil.Process().create_time()


# Environment variables that choose a BLAS library's kernels or caches (OpenBLAS, MKL, BLIS): two
# machines that differ in them can round matrix products differently, and so differ in a last digit.
BLAS_VARIABLES = ("OPENBLAS_", "MKL_", "BLIS_", "GOTO_")


def blas_kernels() -> dict:
    """Each loaded BLAS library's kernel architecture and version (threadpoolctl), and the
    environment variables that choose them (thread counts aside, which ``threads_in_effect`` has)."""
    from threadpoolctl import threadpool_info

    libraries = sorted({(pool["internal_api"], pool.get("prefix", ""), pool.get("version") or "",
                         pool.get("architecture") or "not reported")
                        for pool in threadpool_info() if pool["user_api"] == "blas"})
    chosen = {name: value for name, value in sorted(os.environ.items())
              if name.startswith(BLAS_VARIABLES) and not name.endswith("NUM_THREADS")}
    return {"libraries": [{"library": library, "prefix": prefix, "version": version, "architecture": architecture}
                          for library, prefix, version, architecture in libraries],
            "environment": chosen}


def environment(threads: int) -> dict:
    return {
        "python": platform.python_version(),
        "packages": package_versions(),
        "cpu": cpu_model(),
        "machine": platform.machine(),
        "threads": threads,
        "threads_in_effect": threads_in_effect(),
        "blas": blas_kernels(),
        "numpy_hugepage_advice": numpy_hugepage_advice(),
        "git_commit": git_commit(),
    }


def numpy_hugepage_advice() -> bool | None:
    """Whether NumPy asks for 2 MB pages for its large arrays in this process (``edbench/__init__.py``
    says why the package turns it off); None where this NumPy cannot say."""
    try:
        from numpy._core.multiarray import _get_madvise_hugepage
    except ImportError:
        return None
    return bool(_get_madvise_hugepage())


def workflow_usage(scheduler: str, cores: int | None, jobs: int, rate_limit=None, one_timer: bool = False) -> dict:
    """What this process has cost since it started, called as the main Snakemake process ends (the
    workflow's onsuccess handler): its own CPU seconds (parsing, planning, scheduling, polling)
    against its wall time, the CPU seconds of the local jobs it ran, the job-rate limit whose
    timespan sets how often it selects jobs again while they wait (``rate_limit``: Snakemake's
    MaxJobsPerTimespan, or None), and whether those re-selections were kept to one timer at a time
    (``one_timer``, ``edbench.scheduling``)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    local_jobs = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = process_age_seconds()
    cpu = own.ru_utime + own.ru_stime
    command = " ".join(sys.argv[1:])
    return {"command": command if len(command) <= 300 else command[:300] + " ...", "scheduler": scheduler,
            "cores": cores, "jobs": jobs,
            "max_jobs_per_timespan": None if rate_limit is None else
            f"{rate_limit.max_jobs}/{rate_limit.timespan:g}s",
            "reselection_timers": "one at a time" if one_timer else "Snakemake's own",
            "finished": round(time.time(), 3), "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "share_of_a_core": round(cpu / wall, 4) if wall > 0 else None,
            "local_jobs_cpu_seconds": round(local_jobs.ru_utime + local_jobs.ru_stime, 3),
            "git_commit": git_commit()}


def add_workflow_usage(path: Path, usage: dict, keep: int = 20) -> None:
    """Add ``usage`` to the record at ``path``, which keeps the last ``keep`` workflow runs (a record
    that cannot be read is started again: it must not fail the workflow that just succeeded)."""
    try:
        runs = list(json.loads(Path(path).read_text())["runs"])
    except (OSError, ValueError, KeyError, TypeError):
        runs = []
    atomic.write_json(path, {"runs": [*runs, usage][-keep:]})


def package_sources(skip=()) -> list[Path]:
    """Every Python file of the edbench package, except those in the sub-packages named in ``skip``."""
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if p.relative_to(PACKAGE_DIR).parts[0] not in skip)


def code_digest(paths) -> str:
    """sha256 over the names and contents of ``paths``: a rule parameter, so Snakemake reruns a job
    when the code it runs changes (its params rerun trigger)."""
    digest = hashlib.sha256()
    for path in sorted(Path(p).resolve() for p in paths):
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def training_code_digest(*scripts) -> str:
    return code_digest([*package_sources(skip=REPORTING_ONLY), *(REPO_ROOT / s for s in scripts)])


def reporting_code_digest(*scripts) -> str:
    return code_digest([*package_sources(), *(REPO_ROOT / s for s in scripts)])
