#!/usr/bin/env bash
# Build a real Prometheus, promtool and Jaeger from the Go module proxy, once per version,
# into the streamgate cache (the observability suite and `make rules-test` use them).
#
# Usage: scripts/observability/tools.sh prometheus|promtool|jaeger|all
#   prints the binary's path as the last line of stdout (for `all`, nothing).
# Builds take minutes and gigabytes (docs/observability.md lists the numbers); a lock per
# tool lets concurrent callers wait for one build.
#
# Environment:
#   PROMETHEUS_VERSION  default v0.316.0 (Prometheus 3.x's Go module version)
#   JAEGER_VERSION      default v1.75.0  (Jaeger v2 all-in-one, OTel Collector inside)
#   STREAMGATE_CACHE    cache root        default $HOME/.cache/streamgate
set -euo pipefail

PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
JAEGER_VERSION="${JAEGER_VERSION:-v1.75.0}"
CACHE_ROOT="${STREAMGATE_CACHE:-${HOME:-/root}/.cache/streamgate}"

# build NAME MODULE_PACKAGE VERSION: go build PACKAGE in a scratch module that requires it
# (the modules' own replace directives rule out `go install pkg@version`).
build() {
  local name=$1 pkg=$2 version=$3
  local dir="$CACHE_ROOT/$name-$version"
  local bin="$dir/$name"
  mkdir -p "$CACHE_ROOT"
  (
    flock 9
    if [[ -x "$bin" ]]; then exit 0; fi
    echo ">> building $name $version from $pkg (minutes, once)" >&2
    local scratch
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    cd "$scratch"
    export GOWORK=off GOFLAGS=-mod=mod
    go mod init streamgate.local/obs-tools >/dev/null 2>&1
    go get -tool "$pkg@$version" >&2
    mkdir -p "$dir"
    go build -trimpath -ldflags "-s -w" -o "$bin.tmp" "$pkg" >&2
    mv "$bin.tmp" "$bin"
  ) 9>"$CACHE_ROOT/$name-$version.lock"
  echo "$bin"
}

case "${1:-}" in
  prometheus) build prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION" ;;
  promtool)   build promtool github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION" ;;
  jaeger)     build jaeger github.com/jaegertracing/jaeger/cmd/jaeger "$JAEGER_VERSION" ;;
  all)
    build promtool github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION" >/dev/null
    build prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION" >/dev/null
    build jaeger github.com/jaegertracing/jaeger/cmd/jaeger "$JAEGER_VERSION" >/dev/null
    ;;
  *) echo "usage: $0 prometheus|promtool|jaeger|all" >&2; exit 2 ;;
esac
