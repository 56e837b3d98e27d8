# Shared settings of the local test cluster scripts (sourced, not run).
# shellcheck shell=bash

CLUSTER_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$CLUSTER_SCRIPTS/../.." && pwd)

# The versions are pinned by the go.mod of each component's module; the
# binaries are cached per version.
module_version() { awk -v m="$2" '$1 == m || ($1 == "require" && $2 == m) {print $NF; exit}' "$CLUSTER_SCRIPTS/$1/go.mod"; }
K8S_VERSION=$(module_version k8s k8s.io/kubernetes)
K8S_MINOR=$(cut -d. -f1,2 <<<"${K8S_VERSION#v}")
ETCD_VERSION=$(module_version etcd go.etcd.io/etcd/server/v3)
COREDNS_VERSION=$(module_version coredns github.com/coredns/coredns)
REGISTRY_VERSION=$(module_version registry github.com/google/go-containerregistry)

CACHE_ROOT="${STREAMGATE_CACHE:-${HOME:-/root}/.cache/streamgate}"
CLUSTER_BIN="${CLUSTER_BIN:-$CACHE_ROOT/cluster/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-coredns-$COREDNS_VERSION/bin}"
# The registry is tiny: its own directory, so a new version rebuilds only it.
REGISTRY_BIN="$CACHE_ROOT/cluster/registry-$REGISTRY_VERSION"

log() { printf '[%s %s] %s\n' "$(basename "$0")" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The cluster: state, network and names. Everything lives in CLUSTER_DIR and
# inside the network + mount namespace held by the holder process.
CLUSTER_DIR="${CLUSTER_DIR:-/tmp/streamgate-cluster}"
NODE_NAME=streamgate-node
NODE_IP="${CLUSTER_NODE_IP:-10.201.0.1}"
POD_CIDR=10.88.0.0/16
POD_GATEWAY=10.88.0.1
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
DNS_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
API_PORT=6443
# A plain-HTTP registry on the node (skaffold pushes, containerd pulls).
REGISTRY="$NODE_IP:5000"
# Own cgroup (in every v1 hierarchy): kubelet's cgroupRoot, and components/
# holding every process the scripts start, so `down` finds them all.
CGROUP_NAME=streamgate-cluster
CONTAINERD_SOCK=/run/containerd/containerd.sock

HOLDER_PID_FILE="$CLUSTER_DIR/holder.pid"
ADMIN_KUBECONFIG="$CLUSTER_DIR/kubeconfig"

holder_pid() {
  local pid
  pid=$(cat "$HOLDER_PID_FILE" 2>/dev/null) || return 1
  [[ -n $pid && -d /proc/$pid ]] || return 1
  echo "$pid"
}

# in_ns CMD...: run CMD inside the cluster's network and mount namespaces.
in_ns() {
  local pid
  pid=$(holder_pid) || die "cluster not up (no holder process; make cluster-up)"
  nsenter -t "$pid" -n -m --wdns="$PWD" -- "$@"
}

cgroup_hierarchies() {
  local d
  for d in /sys/fs/cgroup/*/; do
    [[ -f $d/cgroup.procs ]] && echo "${d%/}"
  done
}
