#!/usr/bin/env bash
# Prints the node_modules the Go tests' Node validators run from, installing it on first
# use with `npm ci` (the npm registry) from package-lock.json. One install per hash of
# the lock file, cached in ~/.cache/streamgate; install scripts are not run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${STREAMGATE_CACHE:-$HOME/.cache/streamgate}
dir=$cache/node-$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)

mkdir -p "$cache"
exec 9>"$dir.lock"
flock 9
if [ ! -e "$dir/.complete" ]; then
  echo "install.sh: npm ci into $dir (once)" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  touch "$dir/.complete"
fi
echo "$dir/node_modules"
