#!/usr/bin/env bash
# Run a command inside the local test cluster's namespaces, with its admin
# kubeconfig, its kubectl and the tools of bin/ (helm, skaffold) first on PATH:
#   scripts/cluster/exec.sh kubectl get pods -A
#   scripts/cluster/exec.sh helm list -A
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pid=$(holder_pid) || die "cluster not up (make cluster-up)"
export KUBECONFIG="$ADMIN_KUBECONFIG" PATH="$CLUSTER_BIN:$REPO_ROOT/bin:$PATH"
exec nsenter -t "$pid" -n -m --wdns="$PWD" -- "$@"
