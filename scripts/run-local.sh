#!/usr/bin/env bash
# `make run`: the worker and the gateway on this machine, with human-readable logs.
# Without KAFKA_BROKERS it starts the in-memory dev broker (kfake) first; with it, the
# services use that broker instead. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
ldflags="-X github.com/streamgate/streamgate/pkg/platform/buildinfo.Version=$version"
mkdir -p bin
echo ">> building"
go build -ldflags "$ldflags" -o bin/gateway ./services/gateway/cmd/gateway
go build -ldflags "$ldflags" -o bin/worker ./services/worker/cmd/worker

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

wait_for_port() { # host port what
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "!! $3 did not open $1:$2" >&2
  exit 1
}

if [ -z "${KAFKA_BROKERS:-}" ]; then
  go build -o bin/devbroker ./tools/devbroker/cmd/devbroker
  bin/devbroker -addr 127.0.0.1:9092 &
  pids+=($!)
  wait_for_port 127.0.0.1 9092 devbroker
  export KAFKA_BROKERS=127.0.0.1:9092
fi

export LOG_FORMAT="${LOG_FORMAT:-console}"
# At debug both services log each request and record (quiet by default).
export LOG_LEVEL="${LOG_LEVEL:-debug}"
HTTP_ADDR=127.0.0.1:8081 bin/worker &
pids+=($!)
HTTP_ADDR=127.0.0.1:8080 bin/gateway &
pids+=($!)
wait_for_port 127.0.0.1 8080 gateway

cat <<MSG

>> streamgate is up: gateway on http://127.0.0.1:8080, worker probes on :8081, Kafka at $KAFKA_BROKERS
>> try:   curl -i -H 'X-Correlation-ID: demo-1' http://127.0.0.1:8080/v1/ping
>> Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
