#!/usr/bin/env bash
# Prints the python of the venv every Python test peer runs in, building it on first
# use from requirements.txt (PyPI). One venv per hash of requirements.txt, cached in
# $STREAMGATE_CACHE (~/.cache/streamgate), as every cache of the project, so changing a pin builds a new one and never mixes versions.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Another requirements file (the benchmark's, tests/bench/python) gets a venv of its own.
requirements=${1:-$here/requirements.txt}
cache=${STREAMGATE_CACHE:-$HOME/.cache/streamgate}
venv=$cache/venv-$(sha256sum "$requirements" | cut -c1-16)
python=${PYTHON:-python3}

mkdir -p "$cache"
# Test packages may ask at the same time; the first builds, the others wait.
exec 9>"$venv.lock"
flock 9
if [ ! -e "$venv/.complete" ]; then
  echo "venv.sh: building $venv from $requirements (once)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$requirements" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
