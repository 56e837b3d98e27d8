#!/usr/bin/env bash
# Build the gateway and worker images from the unmodified Dockerfile
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
#        IMAGE=ref [PUSH_IMAGE=true] scripts/images/local.sh one SERVICE
#          one image, for skaffold's custom builder (which sets IMAGE and
#          PUSH_IMAGE); pushed over plain HTTP, to the local cluster's registry
#
# Environment:
#   VERSION           stamped into the services and their tag  default: git describe
#   LOCAL_IMAGE_REPO  repository prefix of every image         default: localhost/streamgate
#                     (not IMAGE_REPO: skaffold sets that for its custom builders)
#   IMAGES_OUT_DIR    docker-archives + images.env             default: bin/images
#   DEBIAN_MIRROR     for debootstrap                          default: http://deb.debian.org/debian
#   STREAMGATE_CACHE  cache root (buildah storage)             default: ~/.cache/streamgate
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
CACHE_ROOT="${STREAMGATE_CACHE:-${HOME:-/root}/.cache/streamgate}"

VERSION="${VERSION:-$(git -C "$REPO_ROOT" describe --tags --always --dirty 2>/dev/null || echo dev)}"
LOCAL_IMAGE_REPO="${LOCAL_IMAGE_REPO:-localhost/streamgate}"
OUT_DIR="${IMAGES_OUT_DIR:-$REPO_ROOT/bin/images}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

GO_VERSION=$(go env GOVERSION)
GO_VERSION=${GO_VERSION#go}
BUSYBOX_VERSION=$(/bin/busybox 2>/dev/null | sed -n '1s/^BusyBox v\([0-9.]*\).*/\1/p')
# Bump BASE_REV when what a base image contains changes, to rebuild it.
BASE_REV=1

BOOKWORM_IMAGE="$LOCAL_IMAGE_REPO/bookworm:minbase-r$BASE_REV"
GO_IMAGE="$LOCAL_IMAGE_REPO/golang:$GO_VERSION-bookworm-r$BASE_REV"
RUNTIME_IMAGE="$LOCAL_IMAGE_REPO/static:nonroot-r$BASE_REV"
PAUSE_IMAGE="$LOCAL_IMAGE_REPO/pause:r$BASE_REV"
TEST_IMAGE="$LOCAL_IMAGE_REPO/busybox:$BUSYBOX_VERSION-r$BASE_REV"
GATEWAY_IMAGE="$LOCAL_IMAGE_REPO/gateway:$VERSION"
WORKER_IMAGE="$LOCAL_IMAGE_REPO/worker:$VERSION"

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

# make_image IMAGE FROM FILL CONFIG...: unless IMAGE exists, a working
# container on FROM, `FILL ROOT` run on its mounted root filesystem, then
# `buildah config CONFIG...`, committed as IMAGE.
make_image() {
  local image=$1 from=$2 fill=$3 ctr mnt
  shift 3
  exists "$image" && return 0
  ctr=$(bh from --quiet "$from")
  mnt=$(bh mount "$ctr")
  "$fill" "$mnt"
  bh umount "$ctr" >/dev/null
  bh config "$@" "$ctr"
  bh commit --quiet --rm "$ctr" "$image" >/dev/null
  log "built $image"
}

fill_bookworm() {
  log "debootstrap --variant=minbase bookworm (downloads ~40 MB of .debs, a few minutes)"
  if ! debootstrap --variant=minbase bookworm "$1" "$DEBIAN_MIRROR" >"$OUT_DIR/debootstrap.log" 2>&1; then
    tail -20 "$OUT_DIR/debootstrap.log" >&2
    die "debootstrap failed (log: $OUT_DIR/debootstrap.log)"
  fi
  rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*
}

# What the official golang:bookworm image is for the Dockerfile: Go in
# /usr/local/go, GOPATH=/go, a CA bundle for the module proxy.
fill_go() {
  mkdir -p "$1/usr/local/go" "$1/go/bin" "$1/go/src" "$1/etc/ssl/certs"
  cp -a "$(go env GOROOT)/." "$1/usr/local/go/"
  cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$1/go"
}

# distroless static-debian12:nonroot's contents that a static Go binary uses.
fill_runtime() {
  mkdir -p "$1/etc/ssl/certs" "$1/tmp" "$1/home/nonroot"
  cat >"$1/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$1/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
  echo 'hosts: files dns' >"$1/etc/nsswitch.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$1/tmp"
  chown 65532:65532 "$1/home/nonroot"
  chmod 700 "$1/home/nonroot"
}

fill_pause() {
  (cd "$SCRIPT_DIR/pause" && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$1/pause" main.go)
}

fill_busybox() {
  local applet
  mkdir -p "$1/bin" "$1/tmp"
  chmod 1777 "$1/tmp"
  cp /bin/busybox "$1/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -s busybox "$1/bin/$applet"
  done
}

build_go() {
  command -v debootstrap >/dev/null || die "debootstrap not found (make cluster-deps)"
  make_image "$BOOKWORM_IMAGE" scratch fill_bookworm \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash
  make_image "$GO_IMAGE" "$BOOKWORM_IMAGE" fill_go \
    --env GOLANG_VERSION="$GO_VERSION" --env GOPATH=/go \
    --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --workingdir /go
}

build_runtime() {
  make_image "$RUNTIME_IMAGE" scratch fill_runtime --user 65532:65532 --workingdir /home/nonroot \
    --env PATH=/usr/local/bin:/usr/bin:/bin --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
}

build_pause() {
  make_image "$PAUSE_IMAGE" scratch fill_pause --entrypoint '["/pause"]' --user 65535:65535
}

build_busybox() {
  [[ -x /bin/busybox ]] || die "busybox not found (make cluster-deps)"
  make_image "$TEST_IMAGE" scratch fill_busybox --env PATH=/bin --cmd sh
}

# bud SERVICE IMAGE: the unmodified Dockerfile for services/SERVICE, context =
# repository root. Host network: the build stage downloads modules from the Go
# module proxy.
bud() {
  [[ -d $REPO_ROOT/services/$1 ]] || die "no services/$1"
  log "buildah bud --build-arg SERVICE=$1 -> $2"
  bh bud --quiet --layers --network host \
    --build-arg GO_IMAGE="$GO_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" \
    --build-arg VERSION="$VERSION" --build-arg SERVICE="$1" \
    -f "$REPO_ROOT/Dockerfile" -t "$2" "$REPO_ROOT" >/dev/null
}

# build_stages: the untagged images --layers keeps (a build stage, ~400 MB each).
build_stages() { bh images --quiet --filter dangling=true; }

# prune EARLIER_STAGES IMAGE...: the build stages listed and the other tags of
# each IMAGE's repository go; the stages of the builds just done stay, as the
# next build's layer cache.
prune() {
  local earlier=$1 image old=""
  shift
  for image in "$@"; do
    old+=" $(bh images --format '{{.Name}}:{{.Tag}}' | awk -v repo="${image%:*}" -v ref="$image" \
      'index($0, repo ":") == 1 && $0 != ref')"
  done
  # shellcheck disable=SC2086 # lists of image names and IDs
  bh rmi $old $earlier >/dev/null 2>&1 || true
}

# archive IMAGE: its docker-archive file, named after the reference.
archive() { local name=${1//\//_}; echo "$OUT_DIR/${name//:/_}.tar"; }

# export_archive IMAGE: a docker-archive keeping the full reference as its
# tag, replacing those of the repository's other tags.
export_archive() {
  local file repo=${1%:*}
  file=$(archive "$1")
  rm -f "$OUT_DIR/${repo//\//_}_"*.tar
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
  [[ -n ${1:-} && -n ${IMAGE:-} ]] || die "usage: IMAGE=ref [PUSH_IMAGE=true] $0 one SERVICE"
  build_go
  build_runtime
  local earlier
  earlier=$(build_stages)
  bud "$1" "$IMAGE"
  prune "$earlier" "$IMAGE"
  if [[ ${PUSH_IMAGE:-false} == true ]]; then
    bh push --quiet --tls-verify=false "$IMAGE" "docker://$IMAGE"
    log "pushed $IMAGE"
  fi
}

cmd_services() {
  local earlier
  earlier=$(build_stages)
  bud gateway "$GATEWAY_IMAGE"
  bud worker "$WORKER_IMAGE"
  prune "$earlier" "$GATEWAY_IMAGE" "$WORKER_IMAGE"
  export_archive "$GATEWAY_IMAGE"
  export_archive "$WORKER_IMAGE"
}

main() {
  setup_buildah
  case "${1:-all}" in
    base) cmd_base ;;
    all) cmd_base; cmd_services; print_env >"$OUT_DIR/images.env" ;;
    one) cmd_one "${2:-}"; return ;;
    *) die "usage: $0 [all|base|one SERVICE]" ;;
  esac
  print_env
}

main "$@"
