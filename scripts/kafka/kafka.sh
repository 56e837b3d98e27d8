#!/usr/bin/env bash
# Run a real Apache Kafka 4.3.1 (KRaft, combined broker+controller; one node, or
# KAFKA_NODES) on loopback or KAFKA_HOST for integration tests. The jars come from Maven Central through
# scripts/kafka/pom.xml; no Kafka distribution tarball and no Docker needed.
#
# Usage: scripts/kafka/kafka.sh install|libs|start [N]|stop [N]|kill [N]|status [N]|clean
#   libs installs and prints the jars' directory (the classpath of tests/bench/javatxn).
#   N names one node of a cluster (KAFKA_NODES > 1); without it the verb acts on all.
#   kill sends SIGKILL (a crashed node); start N brings it back on its data.
#
# Environment:
#   KAFKA_PORT             broker (PLAINTEXT) port            default 39092
#   KAFKA_HOST             address the broker listens on, advertises and is
#                          checked on (e.g. a node IP that pods reach)  default 127.0.0.1
#   KAFKA_CONTROLLER_PORT  KRaft controller port               default KAFKA_PORT+1
#   KAFKA_DATA_DIR         data, config, server.log, pid       default /tmp/streamgate-kafka-$KAFKA_PORT
#   STREAMGATE_CACHE       cache root for the jars             default $HOME/.cache/streamgate
#   KAFKA_START_TIMEOUT    seconds to wait for the broker      default 90
#   KAFKA_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL default 30
#   KAFKA_HEAP_OPTS        JVM heap flags                      default "-Xms256m -Xmx512m"
#   KAFKA_JVM_PERFORMANCE_OPTS  GC/JIT flags    default G1 + C1-only JIT (see below)
#   KAFKA_OPTS             extra JVM flags                     default empty
#   KAFKA_CDS              1 = use an AppCDS class archive     default 1
#   KAFKA_EXTRA_CONFIG     extra server.properties lines (newline separated), appended last
#   KAFKA_SECURITY         plaintext | secure                  default plaintext
#   KAFKA_NODES            KRaft nodes (combined broker+controller) default 1
# With KAFKA_NODES > 1, node i (1..N) listens on KAFKA_PORT+3(i-1) (controller +1, SSL +2),
# keeps its data in KAFKA_DATA_DIR/node-i, and topics get replication factor min(N, 3)
# with min.insync.replicas=2: a cluster that survives the loss of any one node.
# Secure mode only (see docs/secured-kafka.md): no client-facing plaintext listener; KAFKA_PORT is
# SASL_SSL with SCRAM-SHA-512, KAFKA_SSL_PORT is SSL with client certificates required,
# the StandardAuthorizer enforces ACLs.
#   KAFKA_SSL_PORT         SSL (mutual TLS) listener port      default KAFKA_PORT+2
#   KAFKA_SSL_CA           PEM CA bundle the broker trusts (client and own certificates)
#   KAFKA_SSL_CERT         PEM certificate (chain) of the broker, valid for 127.0.0.1
#                          (the controller listener) and KAFKA_HOST when that is set
#   KAFKA_SSL_KEY          PEM PKCS#8 key of the broker, unencrypted
#   KAFKA_SUPER_USERS      super.users, e.g. "User:admin;User:CN=broker" (must include
#                          the broker's certificate subject: it is the inter-broker principal)
#   KAFKA_SCRAM_USERS      "name=password ..." SCRAM-SHA-512 users created at format time
#
# `start` prints the bootstrap address ($KAFKA_HOST:$KAFKA_PORT; for a cluster, every
# node's, comma-separated) as the last line of stdout; everything else goes to stderr.
set -euo pipefail

KAFKA_VERSION=4.3.1
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POM="$SCRIPT_DIR/pom.xml"

CACHE_ROOT="${STREAMGATE_CACHE:-${HOME:-/root}/.cache/streamgate}"
KAFKA_HOME_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS_DIR="$KAFKA_HOME_DIR/libs"
MARKER="$LIBS_DIR/.complete"
CDS_DIR="$KAFKA_HOME_DIR/cds"

KAFKA_PORT="${KAFKA_PORT:-39092}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-/tmp/streamgate-kafka-$KAFKA_PORT}"
KAFKA_DATA_DIR=$(realpath -m -- "$KAFKA_DATA_DIR")
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
# -XX:TieredStopAtLevel=1 (C1 only) roughly halves the CPU a cold broker burns
# before it is ready on a 2-core machine; plenty fast for integration tests.
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:TieredStopAtLevel=1 -Djava.awt.headless=true}"
KAFKA_OPTS="${KAFKA_OPTS:-}"
KAFKA_CDS="${KAFKA_CDS:-1}"
KAFKA_EXTRA_CONFIG="${KAFKA_EXTRA_CONFIG:-}"
KAFKA_SECURITY="${KAFKA_SECURITY:-plaintext}"
KAFKA_SSL_PORT="${KAFKA_SSL_PORT:-$((KAFKA_PORT + 2))}"
KAFKA_SSL_CA="${KAFKA_SSL_CA:-}"
KAFKA_SSL_CERT="${KAFKA_SSL_CERT:-}"
KAFKA_SSL_KEY="${KAFKA_SSL_KEY:-}"
KAFKA_SUPER_USERS="${KAFKA_SUPER_USERS:-}"
KAFKA_SCRAM_USERS="${KAFKA_SCRAM_USERS:-}"
KAFKA_NODES="${KAFKA_NODES:-1}"
# Set by the cluster verbs for each node they run (see node_env); a single node is node 1.
KAFKA_NODE_ID="${KAFKA_NODE_ID:-}"
KAFKA_QUORUM_VOTERS="${KAFKA_QUORUM_VOTERS:-1@127.0.0.1:$KAFKA_CONTROLLER_PORT}"
KAFKA_CLUSTER_ID="${KAFKA_CLUSTER_ID:-}"
KAFKA_REPLICATION_FACTOR="${KAFKA_REPLICATION_FACTOR:-1}"
KAFKA_MIN_ISR="${KAFKA_MIN_ISR:-1}"

PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
SERVER_LOG="$KAFKA_DATA_DIR/server.log"
CONFIG_FILE="$KAFKA_DATA_DIR/server.properties"
LOG4J_FILE="$KAFKA_DATA_DIR/log4j2.properties"
LOG_DIRS="$KAFKA_DATA_DIR/logs"
KEYSTORE_FILE="$KAFKA_DATA_DIR/broker-keystore.pem"

log() { printf '[kafka.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pom_hash() { sha256sum "$POM" | cut -d' ' -f1; }

installed() { [[ -f "$MARKER" && "$(cat "$MARKER" 2>/dev/null)" == "$(pom_hash)" ]]; }

cmd_install() {
  if installed; then
    return 0
  fi
  command -v java >/dev/null || die "java not found (need Java 17+)"
  command -v mvn >/dev/null || die "mvn not found (need Maven 3.x)"
  mkdir -p "$KAFKA_HOME_DIR"
  # Serialise concurrent installs (two brokers started at the same time).
  exec 9>"$KAFKA_HOME_DIR/.install.lock"
  flock 9
  if installed; then
    exec 9>&-
    return 0
  fi
  log "installing Kafka $KAFKA_VERSION jars into $LIBS_DIR (Maven Central)"
  local tmp="$KAFKA_HOME_DIR/libs.tmp.$$"
  rm -rf "$tmp"
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" >"$tmp.mvn.log" 2>&1; then
    cat "$tmp.mvn.log" >&2 || true
    rm -rf "$tmp" "$tmp.mvn.log"
    die "mvn dependency:copy-dependencies failed"
  fi
  rm -f "$tmp.mvn.log"
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after copy"; }
  rm -rf "$LIBS_DIR" "$CDS_DIR" # class archives are only valid for the exact jars
  mv "$tmp" "$LIBS_DIR"
  pom_hash >"$MARKER" # written last: marks the install complete
  exec 9>&-
  log "installed $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS_DIR" | cut -f1))"
}

classpath() {
  local cp="" j
  for j in "$LIBS_DIR"/*.jar; do cp="${cp:+$cp:}$j"; done
  printf '%s' "$cp"
}

# pid of our broker if it is alive (and really is our java process), else fails.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: the command line must be our broker.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONFIG_FILE" || return 1
  printf '%s' "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$KAFKA_HOST/$1") 2>/dev/null; }

# A real Kafka protocol round trip: ApiVersions v0 request, expect a response
# carrying our correlation id (0x5347 = "SG").
kafka_answers() {
  local out
  # shellcheck disable=SC2016 # expanded by the inner bash
  out=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$2/$1" || exit 1
    # size=10, api_key=18 (ApiVersions), api_version=0, correlation_id=0x5347, client_id=""
    printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x53\x47\x00\x00" >&3
    head -c 8 <&3 | od -An -tx1 | tr -d " \n"
  ' _ "$KAFKA_PORT" "$KAFKA_HOST" 2>/dev/null) || return 1
  [[ "${out:8:8}" == "00005347" ]]
}

secure() { [[ "$KAFKA_SECURITY" == secure ]]; }

# The same ApiVersions round trip over TLS on the SASL_SSL port (ApiVersions is allowed
# before authentication), the broker certificate verified against KAFKA_SSL_CA. Without
# openssl, both client ports accepting connections has to do.
kafka_answers_tls() {
  if ! command -v openssl >/dev/null; then
    port_open "$KAFKA_PORT" && port_open "$KAFKA_SSL_PORT"
    return
  fi
  local out
  # shellcheck disable=SC2016 # expanded by the inner bash
  out=$(timeout 5 bash -c '
    { printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x53\x47\x00\x00"; sleep 0.5; } |
      openssl s_client -quiet -no_ign_eof -verify_return_error -CAfile "$2" -connect "$3:$1" 2>/dev/null |
      head -c 8 | od -An -tx1 | tr -d " \n"
  ' _ "$KAFKA_PORT" "$KAFKA_SSL_CA" "$KAFKA_HOST" 2>/dev/null) || return 1
  [[ "${out:8:8}" == "00005347" ]]
}

broker_answers() {
  if secure; then kafka_answers_tls; else kafka_answers; fi
}

check_secure_settings() {
  if ! secure; then
    [[ "$KAFKA_SECURITY" == plaintext ]] || die "KAFKA_SECURITY=$KAFKA_SECURITY: must be plaintext or secure"
    return 0
  fi
  local v
  for v in KAFKA_SSL_CA KAFKA_SSL_CERT KAFKA_SSL_KEY; do
    [[ -r "${!v}" ]] || die "KAFKA_SECURITY=secure needs $v, a readable PEM file (got '${!v}')"
  done
  [[ -n "$KAFKA_SUPER_USERS" ]] || die "KAFKA_SECURITY=secure needs KAFKA_SUPER_USERS (at least the broker certificate's principal)"
  if ! command -v openssl >/dev/null; then
    log "no openssl: readiness only checks that the ports accept connections"
    return 0
  fi
  # Clients verify the certificate against KAFKA_HOST, and the controller listener,
  # always on 127.0.0.1, is verified too: the certificate must name both.
  local addr check
  for addr in 127.0.0.1 "$KAFKA_HOST"; do
    check=-checkhost
    [[ "$addr" =~ ^[0-9.]+$ || "$addr" == *:* ]] && check=-checkip
    openssl x509 -noout -in "$KAFKA_SSL_CERT" "$check" "$addr" 2>/dev/null | grep -q "does match" ||
      die "KAFKA_SSL_CERT does not name $addr: the broker's certificate must cover 127.0.0.1 (the controller listener) and KAFKA_HOST ($KAFKA_HOST)"
  done
}

# Listeners, TLS and authorization. Plaintext: one PLAINTEXT listener, as always.
# Secure: clients reach only SASL_SSL (SCRAM-SHA-512) and SSL (client certificate
# required). The controller listener speaks SSL with client certificates too, rather
# than PLAINTEXT on loopback: with ACLs on, the controller authorizes the broker's own
# requests (registration, heartbeats) by principal, and over PLAINTEXT that principal
# is ANONYMOUS, which would then have to be a super user, for every local process.
# Over SSL the broker is User:CN=<its certificate>, as on the inter-broker listener.
listener_config() {
  if ! secure; then
    cat <<EOF
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
EOF
    return
  fi
  # Kafka reads a PEM key store as one file: the key, then the certificate chain.
  (umask 077 && cat "$KAFKA_SSL_KEY" "$KAFKA_SSL_CERT" >"$KEYSTORE_FILE")
  cat <<EOF
listeners=SASL_SSL://$KAFKA_HOST:$KAFKA_PORT,SSL://$KAFKA_HOST:$KAFKA_SSL_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://$KAFKA_HOST:$KAFKA_PORT,SSL://$KAFKA_HOST:$KAFKA_SSL_PORT
listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:SSL
controller.listener.names=CONTROLLER
inter.broker.listener.name=SSL
ssl.keystore.type=PEM
ssl.keystore.location=$KEYSTORE_FILE
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_SSL_CA
listener.name.ssl.ssl.client.auth=required
listener.name.controller.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=$KAFKA_SUPER_USERS
EOF
}

write_config() {
  mkdir -p "$LOG_DIRS"
  cat >"$CONFIG_FILE" <<EOF
# Generated by scripts/kafka/kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=${KAFKA_NODE_ID:-1}
controller.quorum.voters=$KAFKA_QUORUM_VOTERS
$(listener_config)
log.dirs=$LOG_DIRS
num.partitions=3
default.replication.factor=$KAFKA_REPLICATION_FACTOR
min.insync.replicas=$KAFKA_MIN_ISR
auto.create.topics.enable=true
offsets.topic.replication.factor=$KAFKA_REPLICATION_FACTOR
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$KAFKA_REPLICATION_FACTOR
transaction.state.log.min.isr=$KAFKA_MIN_ISR
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=$KAFKA_REPLICATION_FACTOR
share.coordinator.state.topic.min.isr=$KAFKA_MIN_ISR
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
EOF
  if [[ -n "$KAFKA_EXTRA_CONFIG" ]]; then
    printf '# KAFKA_EXTRA_CONFIG\n%s\n' "$KAFKA_EXTRA_CONFIG" >>"$CONFIG_FILE"
  fi
  cat >"$LOG4J_FILE" <<'EOF'
# Generated by scripts/kafka/kafka.sh: everything to stdout (-> server.log).
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRefs = stdout
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
EOF
}

# AppCDS: the first broker run with a given JDK + jar set dumps the classes it
# loaded into a dynamic archive when it exits (kafka.sh stop); later runs map
# that archive instead of parsing ~6k classes from jars. The archive is keyed
# by the java binary and the pom, and install deletes it with the jars.
cds_archive() {
  local javabin key
  javabin=$(readlink -f "$(command -v java)")
  key=$(printf '%s %s %s' "$javabin" "$(stat -c %Y "$javabin")" "$(pom_hash)" | sha256sum | cut -c1-16)
  printf '%s' "$CDS_DIR/kafka-$key.jsa"
}

# Sets CDS_OPTS for a JVM run. $1=dump: record classes at exit when no archive exists yet.
cds_opts() {
  CDS_OPTS=()
  [[ "$KAFKA_CDS" == 1 ]] || return 0
  local jsa
  jsa=$(cds_archive)
  if [[ -s "$jsa" ]]; then
    CDS_OPTS=("-XX:SharedArchiveFile=$jsa")
  elif [[ "${1:-}" == dump ]]; then
    mkdir -p "$CDS_DIR"
    local tmp="$jsa.tmp.$$"
    CDS_OPTS=("-XX:ArchiveClassesAtExit=$tmp")
    printf '%s\n%s\n' "$tmp" "$jsa" >"$KAFKA_DATA_DIR/cds.pending"
  fi
}

# After the broker exited: move a freshly dumped archive into place
# ($1=discard: the JVM was killed, the dump may be partial).
cds_collect() {
  local pending="$KAFKA_DATA_DIR/cds.pending" tmp jsa
  [[ -f "$pending" ]] || return 0
  { read -r tmp && read -r jsa; } <"$pending" || true
  rm -f "$pending"
  [[ -n "${tmp:-}" && -n "${jsa:-}" ]] || return 0
  if [[ -s "$tmp" && "${1:-}" != discard && -z "${CDS_DISCARD:-}" ]]; then
    mv -f "$tmp" "$jsa" && log "saved class data archive $jsa ($(du -h "$jsa" | cut -f1))"
  else
    rm -f "$tmp"
  fi
}

java_base_opts() {
  # shellcheck disable=SC2206
  JAVA_OPTS=($KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS
    "-Dlog4j2.configurationFile=file:$LOG4J_FILE"
    "-Dkafka.logs.dir=$KAFKA_DATA_DIR"
    $KAFKA_OPTS)
}

new_cluster_id() {
  # Kafka's Uuid: 16 random bytes, URL-safe base64 without padding (22 chars).
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ "$id" != -* && "$id" != "AAAAAAAAAAAAAAAAAAAAAA" && "$id" != "AAAAAAAAAAAAAAAAAAAAAQ" ]] && break
  done
  printf '%s' "$id"
}

format_storage() {
  if [[ -f "$LOG_DIRS/meta.properties" ]]; then
    return 0
  fi
  local cluster_id=$KAFKA_CLUSTER_ID # the nodes of a cluster share one
  [[ -n "$cluster_id" ]] || cluster_id=$(new_cluster_id)
  log "formatting $LOG_DIRS (cluster id $cluster_id)"
  # SCRAM credentials go into the cluster metadata from its first record. The passwords
  # show in this JVM's command line for a moment: fine for a test broker.
  local scram=() user
  if secure; then
    for user in $KAFKA_SCRAM_USERS; do
      [[ "$user" == ?*=?* ]] || die "KAFKA_SCRAM_USERS: an entry is not name=password"
      scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%=*},password=${user#*=}]")
    done
  fi
  cds_opts
  if ! java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${CDS_OPTS[@]}" \
    "-Dlog4j2.configurationFile=file:$LOG4J_FILE" -cp "$(classpath)" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$CONFIG_FILE" "${scram[@]}" >>"$KAFKA_DATA_DIR/format.log" 2>&1; then
    tail -n 30 "$KAFKA_DATA_DIR/format.log" >&2 || true
    die "kafka storage format failed (see $KAFKA_DATA_DIR/format.log)"
  fi
}

cmd_status() {
  running_pid >/dev/null && broker_answers
}

cmd_start() {
  check_secure_settings
  cmd_install
  mkdir -p "$KAFKA_DATA_DIR"
  if pid=$(running_pid); then
    if broker_answers; then
      log "already running (pid $pid) on $KAFKA_HOST:$KAFKA_PORT"
      echo "$KAFKA_HOST:$KAFKA_PORT"
      return 0
    fi
    die "pid $pid is running but $KAFKA_HOST:$KAFKA_PORT does not answer; run stop first"
  fi
  rm -f "$PID_FILE"
  local p
  local ports=("$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT")
  secure && ports+=("$KAFKA_SSL_PORT")
  for p in "${ports[@]}"; do
    port_open "$p" && die "port $KAFKA_HOST:$p is already in use by another process"
  done

  write_config
  format_storage

  local log_offset=0
  [[ -f "$SERVER_LOG" ]] && log_offset=$(stat -c %s "$SERVER_LOG")
  java_base_opts
  cds_opts dump
  log "starting Kafka $KAFKA_VERSION ($KAFKA_SECURITY) on $KAFKA_HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, data $KAFKA_DATA_DIR)"
  local start_ts=$SECONDS
  touch "$SERVER_LOG"
  nohup java "${JAVA_OPTS[@]}" "${CDS_OPTS[@]}" -cp "$(classpath)" kafka.Kafka "$CONFIG_FILE" \
    >>"$SERVER_LOG" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PID_FILE"

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) started=""
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -c +$((log_offset + 1)) "$SERVER_LOG" | tail -n 40 >&2 || true
      rm -f "$PID_FILE"
      cds_collect discard
      die "Kafka exited during startup (log: $SERVER_LOG)"
    fi
    if [[ -z "$started" ]] && tail -c +$((log_offset + 1)) "$SERVER_LOG" | grep -q "Kafka Server started"; then
      started=1
    fi
    if [[ -n "$started" ]] && broker_answers; then
      log "ready after $((SECONDS - start_ts))s (pid $pid)"
      echo "$KAFKA_HOST:$KAFKA_PORT"
      return 0
    fi
    sleep 0.2
  done
  tail -c +$((log_offset + 1)) "$SERVER_LOG" | tail -n 40 >&2 || true
  log "timed out after ${KAFKA_START_TIMEOUT}s; stopping pid $pid"
  CDS_DISCARD=1 # a broker that never finished starting makes a poor class archive
  cmd_stop || true
  exit 1
}

cmd_stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE"
    cds_collect
    log "not running ($KAFKA_DATA_DIR)"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still alive after ${KAFKA_STOP_TIMEOUT}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    rm -f "$PID_FILE"
    cds_collect discard
  fi
  rm -f "$PID_FILE"
  cds_collect
  log "stopped"
}

# SIGKILL: the node crashes as in an OOM kill or a power cut; its data stays.
cmd_kill() {
  local pid
  if ! pid=$(running_pid); then
    log "not running ($KAFKA_DATA_DIR)"
    return 0
  fi
  log "killing pid $pid (SIGKILL)"
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$PID_FILE"
  cds_collect discard
}

cmd_clean() {
  cmd_stop
  case "$KAFKA_DATA_DIR" in
    "" | / | "$HOME" | /tmp) die "refusing to remove KAFKA_DATA_DIR=$KAFKA_DATA_DIR" ;;
  esac
  rm -rf "$KAFKA_DATA_DIR"
  log "removed $KAFKA_DATA_DIR"
}

# --- A cluster (KAFKA_NODES > 1): every verb runs this script once per node. ---

node_port() { printf '%d' $((KAFKA_PORT + 3 * ($1 - 1))); }

# node_env i: sets NODE_ENV, the environment that makes this script act on node i.
node_env() {
  local i=$1 n voters="" port
  for ((n = 1; n <= KAFKA_NODES; n++)); do
    voters="${voters:+$voters,}$n@127.0.0.1:$(($(node_port "$n") + 1))"
  done
  port=$(node_port "$i")
  NODE_ENV=(KAFKA_NODES=1 KAFKA_NODE_ID="$i" KAFKA_PORT="$port" KAFKA_CONTROLLER_PORT=$((port + 1))
    KAFKA_SSL_PORT=$((port + 2)) KAFKA_DATA_DIR="$KAFKA_DATA_DIR/node-$i" KAFKA_QUORUM_VOTERS="$voters"
    KAFKA_CLUSTER_ID="$(cat "$KAFKA_DATA_DIR/cluster.id" 2>/dev/null || true)"
    KAFKA_REPLICATION_FACTOR=$((KAFKA_NODES < 3 ? KAFKA_NODES : 3)) KAFKA_MIN_ISR=$((KAFKA_NODES < 3 ? 1 : 2)))
}

on_node() { # on_node i verb
  node_env "$1"
  env "${NODE_ENV[@]}" "$SCRIPT_DIR/kafka.sh" "$2"
}

# cluster_nodes [N]: the node numbers a verb acts on; call check_node first.
cluster_nodes() {
  if [[ -n "${1:-}" ]]; then echo "$1"; else seq 1 "$KAFKA_NODES"; fi
}

check_node() {
  [[ -z "${1:-}" ]] && return 0
  [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= KAFKA_NODES)) || die "no node '$1' in a cluster of KAFKA_NODES=$KAFKA_NODES"
}

cluster_bootstrap() {
  local n list=""
  for ((n = 1; n <= KAFKA_NODES; n++)); do list="${list:+$list,}127.0.0.1:$(node_port "$n")"; done
  printf '%s\n' "$list"
}

# The nodes start together: none is ready before a majority of the controllers is up.
cluster_start() {
  cmd_install # once, before the nodes race for it
  mkdir -p "$KAFKA_DATA_DIR"
  [[ -s "$KAFKA_DATA_DIR/cluster.id" ]] || new_cluster_id >"$KAFKA_DATA_DIR/cluster.id"
  local i pids=() failed=0
  for i in $(cluster_nodes "${1:-}"); do
    on_node "$i" start >/dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=1; done
  ((failed == 0)) || die "a node did not start; see the lines above"
  cluster_bootstrap
}

# stop and kill act on the nodes together: a node stopped last, after the others took
# the controller quorum with them, would wait out KAFKA_STOP_TIMEOUT for it.
cluster_each() { # verb [N]
  local i pids=() status=0
  for i in $(cluster_nodes "${2:-}"); do
    on_node "$i" "$1" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || status=1; done
  return $status
}

# The data goes, so there is nothing to shut down cleanly.
cluster_clean() {
  cluster_each kill
  case "$KAFKA_DATA_DIR" in
    "" | / | "$HOME" | /tmp) die "refusing to remove KAFKA_DATA_DIR=$KAFKA_DATA_DIR" ;;
  esac
  rm -rf "$KAFKA_DATA_DIR"
  log "removed $KAFKA_DATA_DIR"
}

usage() { # the comment block at the top
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}" >&2
}

[[ "$KAFKA_NODES" =~ ^[1-9][0-9]*$ ]] || die "KAFKA_NODES=$KAFKA_NODES: must be a positive number"
if ((KAFKA_NODES > 1)); then
  check_node "${2:-}"
  case "${1:-}" in
    install) cmd_install ;;
    libs) cmd_install && echo "$LIBS_DIR" ;;
    start) cluster_start "${2:-}" ;;
    stop | kill | status) cluster_each "$1" "${2:-}" ;;
    clean) cluster_clean ;;
    -h | --help | help) usage ;;
    *) usage; exit 2 ;;
  esac
  exit
fi

[[ -z "${2:-}" || "$2" == 1 ]] || die "no node '$2': KAFKA_NODES=1"
case "${1:-}" in
  install) cmd_install ;;
  libs) cmd_install && echo "$LIBS_DIR" ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill) cmd_kill ;;
  status) cmd_status ;;
  clean) cmd_clean ;;
  -h | --help | help) usage ;;
  *) usage; exit 2 ;;
esac
