#!/usr/bin/env bash
# Install what the local test cluster and the local image build need from
# Debian (bookworm): the container runtime, the image builder, the CNI plugins
# and the tools the scripts call. Only what is missing; needs root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# command the scripts run -> the Debian package that has it
declare -A PACKAGES=(
  [containerd]=containerd
  [runc]=runc
  [buildah]=buildah
  [debootstrap]=debootstrap
  [iptables]=iptables
  [conntrack]=conntrack
  [busybox]=busybox-static
  [openssl]=openssl
  [unshare]=util-linux
  [ip]=iproute2
  [/usr/lib/cni/bridge]=containernetworking-plugins
)

missing=()
for cmd in "${!PACKAGES[@]}"; do
  if [[ $cmd == /* ]]; then [[ -x $cmd ]] && continue
  else command -v "$cmd" >/dev/null && continue; fi
  missing+=("${PACKAGES[$cmd]}")
done
((${#missing[@]})) || exit 0

[[ $(id -u) == 0 ]] || die "missing ${missing[*]}: run as root (apt-get install)"
log "apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
