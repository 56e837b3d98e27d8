#!/usr/bin/env bash
# Build the gateway and worker images from their unmodified Dockerfiles
# without a Docker engine: buildah (runc) with base images made here, since
# nothing can be pulled from a registry:
#   GO_IMAGE       Debian bookworm (debootstrap --variant=minbase) + the host's Go toolchain
#   RUNTIME_IMAGE  a distroless-like static:nonroot from scratch (UID/GID 65532, CA bundle, /tmp 1777)
#   pause          the pod sandbox image of the local cluster
#   busybox        Debian's busybox-static, for the charts' helm test pods
# Base images stay in buildah's storage under the cache and are reused; every
# image is also written as a docker-archive (for `ctr images import`) to OUT_DIR.
# Prints each reference and archive as VAR=value lines (after `all`, also
# in OUT_DIR/images.env).
#
# Usage: scripts/images/local.sh [all|base]   (default: all; base: no services)
#        IMAGE=ref [PUSH_IMAGE=true] scripts/images/local.sh one DOCKERFILE
#          one image, for skaffold's custom builder (which sets IMAGE and
#          PUSH_IMAGE); pushed over plain HTTP, to the local cluster's registry
#
# Environment:
#   VERSION         stamped into the services and their tag   default: git describe
#   IMAGE_REPO      repository prefix of every image          default: localhost/streamgate
#   IMAGES_OUT_DIR  docker-archives + images.env              default: bin/images
#   DEBIAN_MIRROR   for debootstrap                           default: http://deb.debian.org/debian
#   STREAMGATE_CACHE  cache root (buildah storage)            default: ~/.cache/streamgate
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
CACHE_ROOT="${STREAMGATE_CACHE:-${HOME:-/root}/.cache/streamgate}"

VERSION="${VERSION:-$(git -C "$REPO_ROOT" describe --tags --always --dirty 2>/dev/null || echo dev)}"
IMAGE_REPO="${IMAGE_REPO:-localhost/streamgate}"
OUT_DIR="${IMAGES_OUT_DIR:-$REPO_ROOT/bin/images}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

GO_VERSION=$(go env GOVERSION)
GO_VERSION=${GO_VERSION#go}
BUSYBOX_VERSION=$(/bin/busybox 2>/dev/null | sed -n '1s/^BusyBox v\([0-9.]*\).*/\1/p')
# Bump BASE_REV when what a base image contains changes, to rebuild it.
BASE_REV=1

BOOKWORM_IMAGE="$IMAGE_REPO/bookworm:minbase-r$BASE_REV"
GO_IMAGE="$IMAGE_REPO/golang:$GO_VERSION-bookworm-r$BASE_REV"
RUNTIME_IMAGE="$IMAGE_REPO/static:nonroot-r$BASE_REV"
PAUSE_IMAGE="$IMAGE_REPO/pause:r$BASE_REV"
TEST_IMAGE="$IMAGE_REPO/busybox:$BUSYBOX_VERSION-r$BASE_REV"
GATEWAY_IMAGE="$IMAGE_REPO/gateway:$VERSION"
WORKER_IMAGE="$IMAGE_REPO/worker:$VERSION"

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# buildah on storage of its own, with the ulimits this host allows
# (its default asks for more open files than the hard limit).
STORAGE="$CACHE_ROOT/containers/storage"
RUNROOT=/run/streamgate-buildah
CONTAINERS_CONF="$CACHE_ROOT/containers/containers.conf"
export CONTAINERS_CONF
bh() { buildah --root "$STORAGE" --runroot "$RUNROOT" --storage-driver overlay "$@"; }

setup_buildah() {
  command -v buildah >/dev/null || die "buildah not found (make cluster-deps)"
  mkdir -p "$STORAGE" "$(dirname "$CONTAINERS_CONF")" "$OUT_DIR"
  local nofile
  nofile=$(ulimit -Hn)
  cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile"]
EOF
}

exists() { bh inspect --type image "$1" >/dev/null 2>&1; }

# new_from_scratch: a working container on an empty image; prints its name.
new_from_scratch() { bh from --quiet scratch; }

# commit CONTAINER IMAGE: commit, then remove the working container.
commit() {
  bh commit --quiet --rm "$1" "$2" >/dev/null
  log "built $2"
}

build_bookworm() {
  exists "$BOOKWORM_IMAGE" && return 0
  command -v debootstrap >/dev/null || die "debootstrap not found (make cluster-deps)"
  log "debootstrap --variant=minbase bookworm (downloads ~40 MB of .debs, a few minutes)"
  local ctr mnt
  ctr=$(new_from_scratch)
  mnt=$(bh mount "$ctr")
  if ! debootstrap --variant=minbase bookworm "$mnt" "$DEBIAN_MIRROR" >"$OUT_DIR/debootstrap.log" 2>&1; then
    tail -20 "$OUT_DIR/debootstrap.log" >&2
    bh rm "$ctr" >/dev/null
    die "debootstrap failed (log: $OUT_DIR/debootstrap.log)"
  fi
  rm -rf "$mnt"/var/cache/apt/archives/*.deb "$mnt"/var/lib/apt/lists/*
  bh umount "$ctr" >/dev/null
  bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$ctr"
  commit "$ctr" "$BOOKWORM_IMAGE"
}

# What the official golang:bookworm image is for these Dockerfiles: Go in
# /usr/local/go, GOPATH=/go, a CA bundle for the module proxy.
build_go() {
  exists "$GO_IMAGE" && return 0
  build_bookworm
  local ctr mnt goroot
  goroot=$(go env GOROOT)
  ctr=$(bh from --quiet "$BOOKWORM_IMAGE")
  mnt=$(bh mount "$ctr")
  mkdir -p "$mnt/usr/local/go" "$mnt/go/bin" "$mnt/go/src" "$mnt/etc/ssl/certs"
  cp -a "$goroot/." "$mnt/usr/local/go/"
  cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$mnt/go"
  bh umount "$ctr" >/dev/null
  bh config --env GOLANG_VERSION="$GO_VERSION" --env GOPATH=/go \
    --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --workingdir /go "$ctr"
  commit "$ctr" "$GO_IMAGE"
}

# distroless static-debian12:nonroot's contents that a static Go binary uses.
build_runtime() {
  exists "$RUNTIME_IMAGE" && return 0
  local ctr mnt
  ctr=$(new_from_scratch)
  mnt=$(bh mount "$ctr")
  mkdir -p "$mnt/etc/ssl/certs" "$mnt/tmp" "$mnt/home/nonroot"
  cat >"$mnt/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$mnt/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
  echo 'hosts: files dns' >"$mnt/etc/nsswitch.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$mnt/tmp"
  chown 65532:65532 "$mnt/home/nonroot"
  chmod 700 "$mnt/home/nonroot"
  bh umount "$ctr" >/dev/null
  bh config --user 65532:65532 --workingdir /home/nonroot \
    --env PATH=/usr/local/bin:/usr/bin:/bin --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "$ctr"
  commit "$ctr" "$RUNTIME_IMAGE"
}

build_pause() {
  exists "$PAUSE_IMAGE" && return 0
  local ctr mnt
  ctr=$(new_from_scratch)
  mnt=$(bh mount "$ctr")
  (cd "$SCRIPT_DIR/pause" && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$mnt/pause" main.go)
  bh umount "$ctr" >/dev/null
  bh config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  commit "$ctr" "$PAUSE_IMAGE"
}

build_busybox() {
  exists "$TEST_IMAGE" && return 0
  [[ -x /bin/busybox ]] || die "busybox not found (make cluster-deps)"
  local ctr mnt applet
  ctr=$(new_from_scratch)
  mnt=$(bh mount "$ctr")
  mkdir -p "$mnt/bin" "$mnt/tmp"
  chmod 1777 "$mnt/tmp"
  cp /bin/busybox "$mnt/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -s busybox "$mnt/bin/$applet"
  done
  bh umount "$ctr" >/dev/null
  bh config --env PATH=/bin --cmd sh "$ctr"
  commit "$ctr" "$TEST_IMAGE"
}

# bud DOCKERFILE IMAGE: the unmodified Dockerfile, context = repository root.
# Host network: the build stage downloads modules from the Go module proxy.
bud() {
  log "buildah bud -f $1 -> $2"
  bh bud --quiet --layers --network host \
    --build-arg GO_IMAGE="$GO_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" \
    --build-arg VERSION="$VERSION" \
    -f "$REPO_ROOT/$1" -t "$2" "$REPO_ROOT" >/dev/null
}

# archive IMAGE: its docker-archive file, named after the reference.
archive() { local name=${1//\//_}; echo "$OUT_DIR/${name//:/_}.tar"; }

# export_archive IMAGE: a docker-archive keeping the full reference as its tag.
export_archive() {
  local file
  file=$(archive "$1")
  rm -f "$file"
  bh push --quiet "$1" "docker-archive:$file:$1"
}

# print_env: every reference (and archive), as VAR=value lines.
print_env() {
  echo "VERSION=$VERSION"
  echo "GO_IMAGE=$GO_IMAGE"
  echo "RUNTIME_IMAGE=$RUNTIME_IMAGE"
  local var
  for var in PAUSE_IMAGE TEST_IMAGE GATEWAY_IMAGE WORKER_IMAGE; do
    echo "$var=${!var}"
    echo "${var%_IMAGE}_ARCHIVE=$(archive "${!var}")"
  done
}

cmd_base() {
  build_go
  build_runtime
  build_pause
  build_busybox
  [[ -f $(archive "$PAUSE_IMAGE") ]] || export_archive "$PAUSE_IMAGE"
  [[ -f $(archive "$TEST_IMAGE") ]] || export_archive "$TEST_IMAGE"
}

cmd_one() {
  [[ -n ${1:-} && -n ${IMAGE:-} ]] || die "usage: IMAGE=ref [PUSH_IMAGE=true] $0 one DOCKERFILE"
  build_go
  build_runtime
  bud "$1" "$IMAGE"
  if [[ ${PUSH_IMAGE:-false} == true ]]; then
    bh push --quiet --tls-verify=false "$IMAGE" "docker://$IMAGE"
    log "pushed $IMAGE"
  fi
}

cmd_services() {
  bud services/gateway/Dockerfile "$GATEWAY_IMAGE"
  bud services/worker/Dockerfile "$WORKER_IMAGE"
  export_archive "$GATEWAY_IMAGE"
  export_archive "$WORKER_IMAGE"
}

main() {
  setup_buildah
  case "${1:-all}" in
    base) cmd_base ;;
    all) cmd_base; cmd_services; print_env >"$OUT_DIR/images.env" ;;
    one) cmd_one "${2:-}"; return ;;
    *) die "usage: $0 [all|base|one DOCKERFILE]" ;;
  esac
  print_env
}

main "$@"
