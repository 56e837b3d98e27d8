#!/usr/bin/env bash
# Run a command inside the local test cluster's namespaces, with its admin
# kubeconfig and its kubectl first on PATH:
#   scripts/cluster/exec.sh kubectl get pods -A
#   scripts/cluster/exec.sh bin/helm list -A
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pid=$(holder_pid) || die "cluster not up (make cluster-up)"
export KUBECONFIG="$ADMIN_KUBECONFIG" PATH="$CLUSTER_BIN:$PATH"
exec nsenter -t "$pid" -n -m --wdns="$PWD" -- "$@"
