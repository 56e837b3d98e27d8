#!/usr/bin/env bash
# The worker binary drains a backlog of pings inside a memory cgroup (v1) limited as the
# chart limits it, and prints the cgroup's peak, how often it hit the limit and how long
# the drain took. Root only (it makes a cgroup); a broker from scripts/kafka/kafka.sh.
#
#   go build -o /tmp/worker ./services/worker/cmd/worker
#   KAFKA=127.0.0.1:29099 tests/bench/memory/worker-in-cgroup.sh /tmp/worker 12
#
# Measured (docs/handlers.md): 12 partitions, 600,000 pings, 256 MiB: before the
# per-partition bounds were shared and the soft memory limit set, the worker was
# OOM-killed after 4 s (another run: it sat at the limit, stuck for 2 minutes); after,
# it drained in 5 s with a 224-228 MiB peak.
set -euo pipefail
worker=${1:?usage: worker-in-cgroup.sh WORKER_BINARY PARTITIONS [RECORDS] [LIMIT_MIB]}
partitions=${2:?usage: worker-in-cgroup.sh WORKER_BINARY PARTITIONS [RECORDS] [LIMIT_MIB]}
records=${3:-600000}
limit_mib=${4:-256}
kafka=${KAFKA:-127.0.0.1:9092}
libs=${STREAMGATE_KAFKA_HOME:-$HOME/.cache/streamgate/kafka-4.3.1}
cp="$libs/libs/*:$libs/tools/*"
run=memcg-$$-$RANDOM
topic=$run-in

for t in "$topic:$partitions" "$topic-out:$partitions" "$topic-dlq:1"; do
  java -cp "$cp" org.apache.kafka.tools.TopicCommand --bootstrap-server "$kafka" --create \
    --topic "${t%%:*}" --partitions "${t##*:}" --replication-factor 1 >/dev/null
done
payload=$(mktemp)
trap 'rm -f "$payload"' EXIT
echo '{"correlation_id":"6f1c2b9e-3d4a-4c1e-9b7a-2f8e5d6c7b1a","data":{"message":"ping","timestamp":"2026-11-27T10:00:00.123456Z"}}' >"$payload"
java -cp "$cp" org.apache.kafka.tools.ProducerPerformance --topic "$topic" --num-records "$records" \
  --throughput -1 --payload-file "$payload" \
  --producer-props bootstrap.servers="$kafka" linger.ms=5 batch.size=65536 >/dev/null

cgroup=/sys/fs/cgroup/memory/$run
mkdir "$cgroup"
echo $((limit_mib << 20)) >"$cgroup/memory.limit_in_bytes"
log=$(mktemp)
(
  echo "$BASHPID" >"$cgroup/cgroup.procs"
  exec env -i PATH="$PATH" KAFKA_BROKERS="$kafka" KAFKA_IN_TOPIC="$topic" KAFKA_OUT_TOPIC="$topic-out" \
    KAFKA_DLQ_TOPIC="$topic-dlq" KAFKA_GROUP_ID="$run" LOG_LEVEL=info \
    HTTP_ADDR=127.0.0.1:38181 METRICS_ADDR=127.0.0.1:38191 "$worker"
) >"$log" 2>&1 &
pid=$!
start=$(date +%s)
# Drained: every partition has a committed offset and no lag; at most 2 minutes.
while kill -0 "$pid" 2>/dev/null && (($(date +%s) - start < 120)); do
  read -r committed lag < <(java -cp "$cp" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
    --bootstrap-server "$kafka" --describe --group "$run" 2>/dev/null |
    awk -v t="$topic" '$2 == t && $4 != "-" { lag += $6; n++ } END { print n + 0, lag + 0 }')
  ((committed == partitions && lag == 0)) && break
  sleep 2
done
echo "$partitions partitions, $records records, limit ${limit_mib} MiB: peak $(($(cat "$cgroup/memory.max_usage_in_bytes") >> 20)) MiB," \
  "limit hit $(cat "$cgroup/memory.failcnt") times, $(grep oom_kill "$cgroup/memory.oom_control" | tail -1)," \
  "committed $committed partitions with lag $lag after $(($(date +%s) - start)) s"
grep -o '"message":"soft memory limit[^}]*' "$log" || true
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
rm -f "$log"
rmdir "$cgroup"
