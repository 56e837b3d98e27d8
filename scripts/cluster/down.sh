#!/usr/bin/env bash
# Stop the local test cluster completely: every process it started (found
# through its cgroup, so containers and shims too), its namespaces with all
# their mounts, its cgroups and CLUSTER_DIR. Safe to run when nothing is up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $(id -u) == 0 ]] || die "needs root"

# pids_in DIR: every process in the cgroup DIR and below.
pids_in() { [[ -d $1 ]] && find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null || true; }

# in_netns: the holder and every other process in its network namespace
# (e.g. a Kafka started there with exec.sh, outside the cluster's cgroup).
in_netns() {
  local holder ns p
  holder=$(holder_pid) || return 0
  echo "$holder"
  ns=$(readlink "/proc/$holder/ns/net") || return 0
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/ns/net" 2>/dev/null) == "$ns" ]] && echo "${p#/proc/}"
  done
  return 0
}

kill_all() {
  local freezer=/sys/fs/cgroup/freezer/$CGROUP_NAME pids=/sys/fs/cgroup/pids/$CGROUP_NAME
  local tries=0 pid left
  # Frozen, nothing can fork while it is being killed.
  [[ -d $freezer ]] && echo FROZEN >"$freezer/freezer.state" 2>/dev/null || true
  while :; do
    left=$( { pids_in "$pids"; pids_in "$freezer"; in_netns; } | sort -u)
    [[ -z $left ]] && break
    for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
    [[ -d $freezer ]] && echo THAWED >"$freezer/freezer.state" 2>/dev/null || true
    ((++tries > 100)) && die "processes left after 10 s: $left"
    sleep 0.1
  done
}

# Children first: a cgroup directory goes only once it is empty.
remove_cgroups() {
  local h
  for h in $(cgroup_hierarchies); do
    [[ -d $h/$CGROUP_NAME ]] || continue
    find "$h/$CGROUP_NAME" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ -d $h/$CGROUP_NAME ]] && die "cgroup $h/$CGROUP_NAME not removable"
  done
  return 0
}

remove_state() {
  local mp
  if [[ -f $CLUSTER_DIR/created-mount-points ]]; then
    while read -r mp; do rmdir "$mp" 2>/dev/null || true; done <"$CLUSTER_DIR/created-mount-points"
  fi
  # The mount namespace went with its last process, and with it every mount
  # (container rootfs, volumes); its teardown may lag the exit a little.
  local tries=0
  until rm -rf "$CLUSTER_DIR" 2>/dev/null; do
    ((++tries > 50)) && die "cannot remove $CLUSTER_DIR: $(rm -rf "$CLUSTER_DIR" 2>&1 | head -3)"
    sleep 0.1
  done
}

start=$SECONDS
kill_all
remove_cgroups
remove_state
log "down in $((SECONDS - start)) s"
