"""The tools hold the style: ruff (pyproject.toml) and snakefmt on the workflow, at their pinned versions."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*command):
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean():
    done = run(str(BIN / "ruff"), "check", "--output-format", "concise", ".")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


def test_snakefmt_is_clean():
    done = run(str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
