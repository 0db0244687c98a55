#!/usr/bin/env bash
# Create (once) the project's virtual environment in .venv with the pinned packages and the edbench
# package installed editable, then run the given command inside it:  bash scripts/setup.sh snakemake --cores 8
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch==2.13.0 is pinned: an unpinned torch pulls a multi-GB CUDA build.
  .venv/bin/python -m pip install --quiet -r requirements.txt
  # the pins are installed already: the package itself, editable, so every clone runs its own code
  .venv/bin/python -m pip install --quiet --no-deps -e .
  echo "$want" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
if [ "$#" -gt 0 ]; then
  exec "$@"
fi
