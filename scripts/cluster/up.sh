#!/usr/bin/env bash
# Start a single-node Kubernetes for tests, without Docker and without a route
# out: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kube-proxy (iptables), containerd + runc, a CNI bridge and CoreDNS, all in a
# network + mount namespace of their own (held by one `sleep` process).
# Idempotent: a healthy cluster is left as it is, a broken one is replaced.
# Stop it with scripts/cluster/down.sh. Needs root.
#
# Inside the namespace: node IP $NODE_IP (on lo), API https://127.0.0.1:6443,
# pods on cni0 (10.88.0.0/16), Services 10.96.0.0/16, DNS 10.96.0.10, a plain-
# HTTP registry on $NODE_IP:5000 that containerd pulls from.
# Prints what clients need as VAR=value lines (KUBECONFIG, NODE_IP,
# HOLDER_PID, CONTAINERD_SOCK, REGISTRY); run kubectl and helm with scripts/cluster/exec.sh
# (it enters the namespace).
#
# Environment: CLUSTER_DIR (default /tmp/streamgate-cluster), CLUSTER_NODE_IP,
# CLUSTER_BIN (the built components), STREAMGATE_CACHE, CLUSTER_UP_TIMEOUT (s).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLUSTER_UP_TIMEOUT="${CLUSTER_UP_TIMEOUT:-180}"
PKI="$CLUSTER_DIR/pki"
CONF="$CLUSTER_DIR/conf"
LOGS="$CLUSTER_DIR/logs"

# node_ready: the API answers and the node is Ready.
node_ready() {
  holder_pid >/dev/null || return 1
  in_ns "$CLUSTER_BIN/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" --request-timeout=5s \
    get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

dns_ready() {
  # shellcheck disable=SC2016 # expanded inside the namespace
  in_ns bash -c 'exec 3<>/dev/tcp/127.0.0.1/8181 && printf "GET /ready HTTP/1.0\r\n\r\n" >&3 && grep -q "200 OK" <&3'
}

healthy() { node_ready && dns_ready 2>/dev/null; }

# wait_for WHAT CMD...: retry CMD until it succeeds or the start deadline passes.
wait_for() {
  local what=$1; shift
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > DEADLINE)); then
      log "timed out waiting for $what; last log lines:"
      tail -n 15 "$LOGS"/*.log >&2 || true
      die "cluster did not come up (logs: $LOGS)"
    fi
    sleep 0.5
  done
}

check_prerequisites() {
  [[ $(id -u) == 0 ]] || die "needs root (namespaces, cgroups, containerd)"
  local c
  for c in containerd containerd-shim-runc-v2 runc iptables conntrack nsenter unshare openssl /usr/lib/cni/bridge; do
    command -v "$c" >/dev/null || [[ -x $c ]] || die "$c not found: make cluster-deps"
  done
  for c in "$CLUSTER_BIN"/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kube-proxy,kubectl,coredns} \
    "$REGISTRY_BIN/registry"; do
    [[ -x $c ]] || die "$c not built: scripts/cluster/build.sh"
  done
}

# --- certificates, tokens, kubeconfigs ---------------------------------------

make_pki() {
  mkdir -p "$PKI"
  cd "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=streamgate-cluster-ca" \
    -keyout ca.key -out ca.crt 2>/dev/null
  cat >apiserver.ext <<EOF
subjectAltName=IP:127.0.0.1,IP:$NODE_IP,IP:$SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,DNS:localhost
extendedKeyUsage=serverAuth
EOF
  sign apiserver "/CN=kube-apiserver" apiserver.ext
  echo extendedKeyUsage=clientAuth >client.ext
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" client.ext
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  cd - >/dev/null
}

# sign NAME SUBJECT EXTFILE: NAME.key + NAME.crt signed by the cluster CA.
sign() {
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
    -extfile "$3" -out "$1.crt" 2>/dev/null
}

# One static token per client: user, uid, groups.
make_tokens() {
  local line name
  : >"$PKI/tokens.csv"
  while read -r line; do
    name=${line%%,*}
    printf '%s,%s\n' "$(openssl rand -hex 16)" "${line#*,}" >>"$PKI/tokens.csv"
    kubeconfig "$name" "$(tail -n 1 "$PKI/tokens.csv" | cut -d, -f1)"
  done <<EOF
admin,admin,admin,"system:masters"
controller-manager,system:kube-controller-manager,kube-controller-manager
scheduler,system:kube-scheduler,kube-scheduler
kubelet,system:node:$NODE_NAME,kubelet,"system:nodes"
kube-proxy,system:kube-proxy,kube-proxy
coredns,system:coredns,coredns
EOF
  cp "$CONF/admin.kubeconfig" "$ADMIN_KUBECONFIG"
}

# kubeconfig NAME TOKEN: $CONF/NAME.kubeconfig for the API on 127.0.0.1.
kubeconfig() {
  cat >"$CONF/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: streamgate
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $1
  user:
    token: $2
contexts:
- name: streamgate
  context: {cluster: streamgate, user: $1}
current-context: streamgate
EOF
}

# --- namespace, network, cgroups ---------------------------------------------

start_holder() {
  mkdir -p "$LOGS"
  setsid unshare --net --mount --propagation slave -- sleep infinity </dev/null >/dev/null 2>&1 &
  echo $! >"$HOLDER_PID_FILE"
  DEADLINE=$((SECONDS + 10)) wait_for "the namespace holder" \
    bash -c "[[ \$(readlink /proc/$!/ns/net) != \$(readlink /proc/self/ns/net) ]]"
}

# Paths some components hard-code: private in the mount namespace, created
# on the host only as empty mount points (down.sh removes those it created).
MOUNT_POINTS=(/run/containerd /run/netns /var/lib/cni /var/log/pods /var/log/containers)

setup_namespace() {
  local mp backing
  for mp in "${MOUNT_POINTS[@]}"; do
    [[ -d $mp ]] || { mkdir -p "$mp" && echo "$mp" >>"$CLUSTER_DIR/created-mount-points"; }
  done
  in_ns mount -t tmpfs -o mode=0711 tmpfs /run/containerd
  in_ns mount -t tmpfs tmpfs /run/netns
  for mp in /var/lib/cni /var/log/pods /var/log/containers; do
    backing="$CLUSTER_DIR/mounts${mp//\//_}"
    mkdir -p "$backing"
    in_ns mount --bind "$backing" "$mp"
  done

  in_ns ip link set lo up
  in_ns ip addr add "$NODE_IP/32" dev lo
  # A fixed MAC: a bridge without one takes the lowest of its ports', so each
  # new pod could change it and leave the others' ARP entries stale (~30 s
  # without a route to the node).
  in_ns ip link add cni0 address 02:42:0a:58:00:01 type bridge
  in_ns ip addr add "$POD_GATEWAY/16" dev cni0
  in_ns ip link set cni0 up
  # No default route exists: ClusterIPs must be routed somewhere for
  # kube-proxy's DNAT to see the packets from the node itself.
  in_ns ip route add "$SERVICE_CIDR" dev cni0
  # Per network namespace (bridge-nf-call-iptables since Linux 5.3): pod ->
  # Service traffic crosses the bridge and must meet kube-proxy's rules.
  in_ns sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.route_localnet=1 \
    net.bridge.bridge-nf-call-iptables=1
}

setup_cgroups() {
  local h
  for h in $(cgroup_hierarchies); do
    [[ $h == */unified ]] && continue
    mkdir -p "$h/$CGROUP_NAME"
    if [[ -f $h/cpuset.cpus ]]; then
      cat "$h/cpuset.cpus" >"$h/$CGROUP_NAME/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h/$CGROUP_NAME/cpuset.mems"
    fi
  done
  # This script and everything it starts from here on, the holder included.
  for h in pids freezer; do
    mkdir -p "/sys/fs/cgroup/$h/$CGROUP_NAME/components"
    echo $$ >"/sys/fs/cgroup/$h/$CGROUP_NAME/components/cgroup.procs"
  done
}

# --- components -------------------------------------------------------------

# start NAME CMD...: a daemon inside the namespace, logging to logs/NAME.log.
start() {
  local name=$1 pid; shift
  pid=$(holder_pid) || die "the namespace holder is gone"
  nsenter -t "$pid" -n -m --wdns="$PWD" -- "$@" </dev/null >"$LOGS/$name.log" 2>&1 &
}

write_configs() {
  mkdir -p "$CONF" "$CONF/net.d" "$CLUSTER_DIR/containerd" "$CLUSTER_DIR/kubelet"
  cat >"$CONF/containerd.toml" <<EOF
version = 2
root = "$CLUSTER_DIR/containerd/root"
state = "/run/containerd"
# No CAP_SYS_RESOURCE here: leave every OOM score as it is.
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CONF/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$REGISTRY"]
    endpoint = ["http://$REGISTRY"]
[plugins."io.containerd.internal.v1.opt"]
  path = "$CLUSTER_DIR/containerd/opt"
EOF
  cat >"$CONF/net.d/10-streamgate.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "streamgate",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$CLUSTER_DIR/cni-ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  echo "nameserver $DNS_IP" >"$CONF/resolv.conf"
  cat >"$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# This host: hybrid cgroup v1/v2, no CAP_SYS_RESOURCE, nofile hard limit 20000.
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_NAME
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
maxOpenFiles: 20000
# Images are imported, never pulled: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
clusterDNS: [$DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $CONF/resolv.conf
rotateCertificates: false
serializeImagePulls: false
EOF
  cat >"$CONF/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $CONF/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
# The global conntrack table size cannot be set from a child namespace.
conntrack: {maxPerCore: 0, min: 0}
EOF
  cat >"$CONF/Corefile" <<EOF
.:53 {
    bind $NODE_IP
    errors
    health 127.0.0.1:8180
    ready 127.0.0.1:8181
    kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        kubeconfig $CONF/coredns.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loadbalance
}
EOF
}

start_control_plane() {
  local bin=$CLUSTER_BIN
  start etcd "$bin/etcd" --name node --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster node=http://127.0.0.1:2380 --unsafe-no-fsync --log-level warn
  start containerd containerd --config "$CONF/containerd.toml"
  start kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --secure-port "$API_PORT" --advertise-address "$NODE_IP" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" --token-auth-file "$PKI/tokens.csv" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --service-account-issuer "https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --allow-privileged=true --profiling=false --v 1
  wait_for "containerd" in_ns ctr -a "$CONTAINERD_SOCK" version
  wait_for "kube-apiserver" kubectl_admin get --raw /readyz
  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$CONF/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$CONF/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$CONF/controller-manager.kubeconfig" \
    --use-service-account-credentials --root-ca-file "$PKI/ca.crt" \
    --service-account-private-key-file "$PKI/sa.key" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --leader-elect=false --bind-address 127.0.0.1 --profiling=false
  start kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig "$CONF/scheduler.kubeconfig" \
    --authentication-kubeconfig "$CONF/scheduler.kubeconfig" \
    --authorization-kubeconfig "$CONF/scheduler.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1 --profiling=false
}

import_pause_image() {
  in_ns ctr -a "$CONTAINERD_SOCK" -n k8s.io images import --snapshotter overlayfs "$PAUSE_ARCHIVE" >/dev/null
}

start_node() {
  start kubelet "$CLUSTER_BIN/kubelet" --config "$CONF/kubelet.yaml" \
    --kubeconfig "$CONF/kubelet.kubeconfig" --root-dir "$CLUSTER_DIR/kubelet" \
    --cert-dir "$PKI/kubelet" --node-ip "$NODE_IP" --hostname-override "$NODE_NAME" --v 1
  start kube-proxy "$CLUSTER_BIN/kube-proxy" --config "$CONF/kube-proxy.yaml" --v 1
}

# CoreDNS runs as a process on the node IP; the kube-dns Service points at it.
start_dns() {
  kubectl_admin apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:coredns"}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  clusterIP: $DNS_IP
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-node
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns}
addressType: IPv4
endpoints:
- addresses: [$NODE_IP]
  conditions: {ready: true}
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
EOF
  start coredns "$CLUSTER_BIN/coredns" -conf "$CONF/Corefile"
}

start_registry() {
  start registry "$REGISTRY_BIN/registry" -addr "$REGISTRY"
}

print_env() {
  echo "KUBECONFIG=$ADMIN_KUBECONFIG"
  echo "NODE_IP=$NODE_IP"
  echo "HOLDER_PID=$(holder_pid)"
  echo "CONTAINERD_SOCK=$CONTAINERD_SOCK"
  echo "REGISTRY=$REGISTRY"
}

kubectl_admin() { in_ns "$CLUSTER_BIN/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

main() {
  check_prerequisites
  # The sandbox (pause) image, built once and cached.
  local images
  images=$("$REPO_ROOT/scripts/images/local.sh" base)
  PAUSE_IMAGE=$(sed -n 's/^PAUSE_IMAGE=//p' <<<"$images")
  PAUSE_ARCHIVE=$(sed -n 's/^PAUSE_ARCHIVE=//p' <<<"$images")
  if healthy; then
    log "already up"
    print_env
    return 0
  fi
  if [[ -e $CLUSTER_DIR ]]; then
    log "replacing the cluster left in $CLUSTER_DIR"
    "$CLUSTER_SCRIPTS/down.sh"
  fi
  DEADLINE=$((SECONDS + CLUSTER_UP_TIMEOUT))
  local start=$SECONDS
  # A cluster that failed to start is removed (CLUSTER_KEEP_FAILED=1 keeps it to look at).
  trap 'status=$?; ((status == 0)) || [[ ${CLUSTER_KEEP_FAILED:-} == 1 ]] || "$CLUSTER_SCRIPTS/down.sh"; exit $status' EXIT
  mkdir -p "$CLUSTER_DIR" "$CONF"
  make_pki
  make_tokens
  setup_cgroups
  start_holder
  setup_namespace
  write_configs
  start_control_plane
  import_pause_image
  start_node
  start_dns
  start_registry
  wait_for "node $NODE_NAME Ready" node_ready
  wait_for "CoreDNS" dns_ready
  wait_for "the registry" in_ns bash -c "exec 3<>/dev/tcp/${REGISTRY/://}"
  wait_for "the default ServiceAccount" kubectl_admin get serviceaccount default
  log "up in $((SECONDS - start)) s"
  print_env
}

main "$@"
