#!/usr/bin/env bash
# The newcomer path: a fresh clone of this commit, the module renamed with the documented
# command, then `make build` and `make unit` on the renamed tree. Reuses the Go build and
# module caches, so it costs about one `make unit`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

module=${NEWCOMER_MODULE:-example.com/acme/orders}
dir=$(mktemp -d -t streamgate-newcomer-XXXXXX)
trap 'rm -rf "$dir"' EXIT
[[ -z "$(git status --porcelain --untracked-files=no)" ]] ||
  echo "newcomer: uncommitted changes are not in the clone; checking $(git rev-parse --short HEAD)" >&2

git clone -q "$PWD" "$dir/repo"
git -C "$dir/repo" checkout -q "$(git rev-parse HEAD)"
cd "$dir/repo"
make rename MODULE="$module"
if left=$(git grep -lF "$(sed -n 's#^module \(.*\)/pkg/messages$#\1#p' "$OLDPWD/pkg/messages/go.mod")/"); then
  echo "newcomer: the old module path is still in:" >&2
  echo "$left" >&2
  exit 1
fi
make build unit
echo "newcomer: $module builds and passes its unit tests"
