# streamgate: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := bash

# Every Go module but the test suites, which have targets of their own.
GO_PACKAGES := ./examples/... ./pkg/gatewaykit/... ./pkg/messages/... ./pkg/platform/... ./pkg/router/... ./services/gateway/... ./services/worker/... ./tools/devbroker/...
GO_TEST     := go test -race -count=1
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X github.com/streamgate/streamgate/pkg/platform/buildinfo.Version=$(VERSION)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
	  awk 'BEGIN {FS = ":.*## "}; !seen[$$1]++ {printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build gateway, worker, the orders example's pair and devbroker into bin/
	@mkdir -p bin
	go build -trimpath -ldflags "$(LDFLAGS)" -o bin/gateway ./services/gateway/cmd/gateway
	go build -trimpath -ldflags "$(LDFLAGS)" -o bin/worker ./services/worker/cmd/worker
	go build -trimpath -ldflags "$(LDFLAGS)" -o bin/orders-gateway ./examples/orders/cmd/orders-gateway
	go build -trimpath -ldflags "$(LDFLAGS)" -o bin/orders-worker ./examples/orders/cmd/orders-worker
	go build -trimpath -o bin/devbroker ./tools/devbroker/cmd/devbroker

.PHONY: run
run: ## Run broker, worker and gateway locally (KAFKA_BROKERS=host:port for a real broker)
	@scripts/run-local.sh

.PHONY: test
test: lint unit e2e deploy-test newcomer cluster-e2e obs-e2e bench-smoke ## Everything CI runs: lint, unit, end-to-end on real Kafka 4.3.1, deployment proofs, both charts on a real cluster, a real Prometheus and Jaeger over both services, the benchmark in smoke mode

.PHONY: lint
lint: ## gofmt and go vet on every module
	@unformatted=$$(gofmt -l examples pkg services tools tests); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet $(GO_PACKAGES) ./tests/...

.PHONY: unit
unit: ## Unit tests of every module, with the race detector
	$(GO_TEST) $(GO_PACKAGES)

.PHONY: rename
rename: ## Rename the Go module path everywhere: make rename MODULE=github.com/acme/orders
	@test -n "$(MODULE)" || { echo "usage: make rename MODULE=github.com/acme/orders"; exit 1; }
	scripts/rename-module.sh "$(MODULE)"

.PHONY: newcomer
newcomer: ## A fresh clone renamed with make rename, then make build unit on it (what a newcomer does)
	scripts/newcomer-check.sh

.PHONY: e2e
e2e: e2e-deps ## End-to-end tests: real binaries on real Kafka (STREAMGATE_TEST_KAFKA=host:port, or started here)
	$(GO_TEST) -timeout 20m -v ./tests/e2e/... ./tests/internal/...

.PHONY: bench
bench: ## Side-by-side benchmark with the Python original on a real Kafka (full JIT): table, plots in bin/bench; longer: BENCH_FLAGS="-duration 20s -rounds 5"; then bench-tracing
	go run ./tests/bench/cmd/streambench -out bin/bench $(BENCH_FLAGS)
	$(MAKE) bench-tracing

.PHONY: bench-tracing
bench-tracing: ## What tracing costs each service with the OTLP exporter on, sampled 100 %, 10 % and off (cpu-µs/op; no broker needed)
	go test -run '^$$' -bench GatewayPingOTLP -benchtime 20000x -count 3 ./services/gateway/internal/api/
	go test -run '^$$' -bench HandleRecordOTLP -benchtime 20000x -count 3 ./pkg/router/

.PHONY: bench-smoke
bench-smoke: ## The benchmark's own tests, then the benchmark with tiny durations so it cannot rot (uses STREAMGATE_TEST_KAFKA when set)
	$(GO_TEST) ./tests/bench/loadgen/... ./tests/bench/proc/... ./tests/bench/cmd/...
	go run ./tests/bench/cmd/streambench -smoke -profile -kafka "$(STREAMGATE_TEST_KAFKA)" -out bin/bench-smoke
	@if [ -n "$(STREAMGATE_TEST_KAFKA)" ]; then $(MAKE) bench-txn TXN_FLAGS="-n 20 -gap 1ms" && $(MAKE) bench-txn TXN_FLAGS="-policies -n 20 -rounds 1" && $(MAKE) bench-txn-java JAVATXN_ARGS="20 5000 1"; fi

.PHONY: bench-txn
bench-txn: ## What one Kafka transaction costs with the worker's transactional settings, phase by phase (the floor of DELIVERY=exactly-once's latency; needs STREAMGATE_TEST_KAFKA=host:port); TXN_FLAGS="-policies" compares ways of batching records into transactions
	go run ./tests/bench/cmd/txnprobe -kafka "$(STREAMGATE_TEST_KAFKA)" $(TXN_FLAGS)

.PHONY: bench-txn-java
bench-txn-java: ## txnprobe -policies' open loop written by Kafka's own Java client (transactions v2, KIP-890): is exactly-once's latency sarama's or Kafka's? (needs STREAMGATE_TEST_KAFKA=host:port); JAVATXN_ARGS="records gap-µs rounds"
	@command -v javac >/dev/null || { echo "bench-txn-java: javac not found (needs a JDK 17+)" >&2; exit 1; }
	@libs=$$(scripts/kafka/kafka.sh libs) && mkdir -p bin/javatxn && \
	  javac -d bin/javatxn -cp "$$libs/*" tests/bench/javatxn/TxnLatency.java && \
	  java -Dlog4j2.level=warn -cp "bin/javatxn:$$libs/*" TxnLatency "$(STREAMGATE_TEST_KAFKA)" $(or $(JAVATXN_ARGS),1000 5000 3)

.PHONY: bench-micro
bench-micro: ## Go benchmarks: the gateway's handler path with and without metrics and tracing, and with the OTLP exporter sampling 100 %, 10 %, off; the worker's work per record, and with the OTLP exporter; the worker and the orders example draining a backlog on real Kafka (need STREAMGATE_TEST_KAFKA=host:port)
	go test -run '^$$' -bench 'GatewayPing$$' -benchtime 2s ./services/gateway/internal/api/
	go test -run '^$$' -bench 'HandleRecord$$' -benchtime 2s ./pkg/router/
	$(MAKE) bench-tracing
	go test -run '^$$' -bench Worker -benchtime 200000x ./tests/bench/...
	go test -run '^$$' -bench 'OrdersDrain/concurrency=1$$' -benchtime 600x ./tests/bench/
	go test -run '^$$' -bench 'OrdersDrain/concurrency=64' -benchtime 20000x ./tests/bench/

.PHONY: fuzz
fuzz: ## Fuzz the message decoders and the correlation ID check for 30 s each
	cd pkg/messages && go test -run '^$$' -fuzz FuzzDecodeRequest -fuzztime 30s .
	cd pkg/messages && go test -run '^$$' -fuzz FuzzDecodeResponse -fuzztime 30s .
	cd pkg/platform && go test -run '^$$' -fuzz FuzzPlainMatchesItsRegexp -fuzztime 30s ./correlation/

# The Python peers (tests/python/venv.sh, PyPI) and the Node validators
# (tests/node/install.sh, npm) install themselves into ~/.cache/streamgate on first use.
.PHONY: e2e-deps
e2e-deps: ## Debian's chromium, for the Swagger UI test (apt-get, once)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

.PHONY: docs
docs: ## Regenerate the committed AsyncAPI document from pkg/messages
	cd pkg/messages && go generate ./...

.PHONY: contract
contract: ## Regenerate pkg/messages/testdata/contract from the real pydantic models (Python venv)
	"$$(tests/python/venv.sh)" tests/python/contract_cases.py

.PHONY: kafka-local
kafka-local: ## Start a real Kafka 4.3.1 on 127.0.0.1:39092 (stop: scripts/kafka/kafka.sh stop)
	scripts/kafka/kafka.sh start

.PHONY: clean
clean: ## Remove build output
	rm -rf bin/gateway bin/worker bin/devbroker

include mk/*.mk
