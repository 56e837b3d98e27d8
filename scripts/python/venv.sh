#!/usr/bin/env bash
# Creates (once) and prints the path of a Python venv holding the packages of a
# requirements file, cached under ~/.cache/streamgate/venv-<hash of the file>, so a
# changed file gets a fresh venv and an unchanged one costs nothing.
#
#   scripts/python/venv.sh [requirements.txt]   # default: tests/python/requirements.txt
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
requirements=${1:-$root/tests/python/requirements.txt}
python=${PYTHON:-python3}
cache=${STREAMGATE_CACHE:-$HOME/.cache/streamgate}

hash=$( { "$python" --version; cat "$requirements"; } | sha256sum | cut -c1-16)
venv=$cache/venv-$hash
mkdir -p "$cache"

# One installer at a time per venv; the others wait and reuse its result.
exec 9>"$venv.lock"
flock 9
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  touch "$venv/.complete"
fi
echo "$venv"
