#!/usr/bin/env bash
# Renames the Go module path of this checkout: every go.mod, go.work, import, -ldflags
# and image label that names it. Usage: scripts/rename-module.sh github.com/acme/orders
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

new=${1:?usage: $0 NEW_MODULE_PATH (e.g. github.com/acme/orders)}
# The current path is what pkg/messages' module is under, so a renamed tree renames again.
old=$(sed -n 's#^module \(.*\)/pkg/messages$#\1#p' pkg/messages/go.mod)
[[ -n "$old" ]] || { echo "rename: cannot read the module path from pkg/messages/go.mod" >&2; exit 1; }
if ! [[ "$new" =~ ^[a-z0-9.-]+\.[a-z]+(/[A-Za-z0-9._~-]+)+$ ]]; then
  echo "rename: $new is not a module path like github.com/acme/orders" >&2
  exit 1
fi
[[ "$new" != "$old" ]] || { echo "rename: the module is already $new"; exit 0; }

# Tracked text files only (-I skips binaries such as the vendored chart archives).
mapfile -d '' files < <(git ls-files -z | xargs -0 grep -IlZF -- "$old" || true)
sed_old=$(printf '%s' "$old" | sed 's/[.[\*^$#]/\\&/g')
sed -i "s#${sed_old}#${new}#g" "${files[@]}"
# Renamed imports may sort differently within their block.
mapfile -d '' gofiles < <(printf '%s\0' "${files[@]}" | grep -zE '\.go$' || true)
((${#gofiles[@]} == 0)) || gofmt -w "${gofiles[@]}"
echo "rename: $old -> $new in ${#files[@]} files"
