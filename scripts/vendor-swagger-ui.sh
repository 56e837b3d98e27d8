#!/usr/bin/env bash
# Vendors swagger-ui-dist from the npm registry into the gateway, which embeds it for
# /docs (no CDN at run time). Usage: scripts/vendor-swagger-ui.sh [VERSION]
set -euo pipefail
version=${1:-5.35.0}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$root/services/gateway/internal/docs/swaggerui
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf swagger-ui-dist-"$version".tgz)
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css favicon-32x32.png LICENSE NOTICE; do
  cp "$tmp/package/$f" "$dest/$f"
done
echo "$version" > "$dest/VERSION"
echo "vendored swagger-ui-dist $version into ${dest#"$root"/}"
