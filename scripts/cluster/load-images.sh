#!/usr/bin/env bash
# Import what scripts/images/local.sh built (gateway, worker, the helm test
# image) into the local test cluster's containerd, where pods find them with
# imagePullPolicy Never.
#
# Usage: scripts/cluster/load-images.sh [IMAGES_ENV]   (default: bin/images/images.env)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

images_env=${1:-$REPO_ROOT/bin/images/images.env}
[[ -r $images_env ]] || die "$images_env not found: make images-local"
for name in GATEWAY WORKER TEST; do
  archive=$(sed -n "s/^${name}_ARCHIVE=//p" "$images_env")
  image=$(sed -n "s/^${name}_IMAGE=//p" "$images_env")
  in_ns ctr -a "$CONTAINERD_SOCK" -n k8s.io images import --snapshotter overlayfs "$archive" >/dev/null
  echo "$image"
done
