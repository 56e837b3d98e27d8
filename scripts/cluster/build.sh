#!/usr/bin/env bash
# Build the local test cluster's components from the Go module proxy into a
# cache keyed by version, so a second run (and CI on the same machine) reuses
# them: Kubernetes (apiserver, controller-manager, scheduler, kubelet,
# kube-proxy, kubectl), etcd, CoreDNS and an in-memory registry, each from its
# pinned module under scripts/cluster/. Prints the bin directory as the last
# line of stdout.
#
# Usage: scripts/cluster/build.sh [k8s|etcd|coredns|registry]...   (default: all)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# build NAME MODULE_DIR LDFLAGS PACKAGE...: go build the packages of the module
# in scripts/cluster/MODULE_DIR into $CLUSTER_BIN, skipping what is there.
build() {
  local name=$1 dir=$2 ldflags=$3; shift 3
  local missing=() pkg
  for pkg in "$@"; do
    [[ -x "$CLUSTER_BIN/$(basename "$pkg")" ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  log "building $name: ${missing[*]##*/} (cold: minutes)"
  local tmp start=$SECONDS
  mkdir -p "$CLUSTER_BIN"
  tmp=$(mktemp -d "$CLUSTER_BIN/.build.XXXXXX")
  (cd "$CLUSTER_SCRIPTS/$dir" &&
    GOWORK=off GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/" "${missing[@]}")
  mv "$tmp"/* "$CLUSTER_BIN/" && rmdir "$tmp"
  log "built $name in $((SECONDS - start)) s"
}

k8s_ldflags() {
  local pkg flags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=${K8S_MINOR%%.*} -X $pkg.gitMinor=${K8S_MINOR#*.}"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

build_k8s() {
  # kube-apiserver first: it is by far the longest, everything else reuses its cache.
  build kubernetes k8s "$(k8s_ldflags)" k8s.io/kubernetes/cmd/kube-apiserver
  build kubernetes k8s "$(k8s_ldflags)" \
    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  build etcd etcd "" ./cmd/etcd
}

build_coredns() {
  build coredns coredns "" ./cmd/coredns
}

build_registry() {
  CLUSTER_BIN=$REGISTRY_BIN build registry registry "" ./cmd/registry
}

main() {
  local what=("$@")
  ((${#what[@]})) || what=(k8s etcd coredns registry)
  local w
  for w in "${what[@]}"; do
    case $w in
      k8s) build_k8s ;;
      etcd) build_etcd ;;
      coredns) build_coredns ;;
      registry) build_registry ;;
      *) die "unknown component $w (k8s|etcd|coredns|registry)" ;;
    esac
  done
  echo "$CLUSTER_BIN"
}

main "$@"
