// Package config declares and loads the gateway's settings. It is exported so that
// deployment tests can check the Helm chart against EnvVars.
package config

import (
	"time"

	"github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/platform/metrics"
)

// HTTPAddr is where the gateway serves its API and probes.
var HTTPAddr = config.Var{Name: "HTTP_ADDR", Default: ":8080"}

// MetricsAddr is where the gateway serves /metrics, apart from its API; "off" turns
// that server off.
var MetricsAddr = config.Var{Name: "METRICS_ADDR", Default: ":9090"}

// AccessLog chooses which requests get an access log line at info level: "errors",
// those answered 4xx or 5xx (successful ones are logged at debug level), or "all".
var AccessLog = config.Var{Name: "ACCESS_LOG", Default: AccessLogErrors}

// ReplyPartitionCheckInterval is how often the reader of the reply topic looks for
// partitions added to it while connected.
var ReplyPartitionCheckInterval = config.Var{Name: "REPLY_PARTITION_CHECK_INTERVAL", Default: "30s"}

// KafkaLinger is how long the gateway's producer waits for more records to batch with
// one it has to send (Kafka's linger.ms): 1ms costs up to about a millisecond per
// request at low rates and saves CPU at high ones (docs/performance.md).
var KafkaLinger = config.Var{Name: "KAFKA_LINGER", Default: "1ms"}

// TrustIncomingTraceContext adopts the traceparent, tracestate and baggage a client
// sends; off (the default), an internet client cannot join or steer the service's traces
// or put baggage on records. Turn on behind a proxy that sets or checks them.
var TrustIncomingTraceContext = config.Var{Name: "TRUST_INCOMING_TRACE_CONTEXT", Default: "false"}

// MaxInFlightRequests bounds the requests to the service's endpoints being served at
// once; beyond it they are answered 503 with Retry-After at once. Each one holds at
// most its headers (httpserver.MaxHeaderBytes, 32 KiB), the body its endpoint reads
// (the samples read none; orders' is capped at 16 KiB), its connection's buffers and a
// goroutine: about 64 KiB, so 1024 hold about 64 MiB, which with the process's own
// ~40 MiB fits the chart's 128 Mi limit. Open connections are bounded at twice it: one
// more is answered 503 at once (docs/hardening.md).
var MaxInFlightRequests = config.Var{Name: "MAX_IN_FLIGHT_REQUESTS", Default: "1024"}

// maxInFlightRequests is MaxInFlightRequests' ceiling: far beyond what the chart's
// memory limit holds, it only catches a typo.
const maxInFlightRequests = 1 << 20

// LagGroupID is the consumer group (the worker's KAFKA_GROUP_ID) whose lag on
// KAFKA_IN_TOPIC the gateway reads from the broker every 5 s and serves as
// streamgate_consumer_group_lag: it exists while no worker runs.
var LagGroupID = config.Var{Name: "LAG_GROUP_ID", Default: "streamgate-worker"}

// Values of AccessLog.
const (
	AccessLogErrors = "errors"
	AccessLogAll    = "all"
)

// Config is everything the gateway reads at start-up.
type Config struct {
	config.Common
	MetricsAddr string // host:port, or metrics.Disabled
	AccessLog   string // AccessLogErrors or AccessLogAll
	// ReplyPartitionCheckInterval: how often new partitions of the reply topic are looked for.
	ReplyPartitionCheckInterval time.Duration
	// KafkaLinger: how long the producer waits to batch records; 0 sends at once.
	KafkaLinger time.Duration
	// TrustIncomingTraceContext: adopt the client's trace context and baggage.
	TrustIncomingTraceContext bool
	// MaxInFlightRequests: requests to the endpoints served at once; more get 503.
	MaxInFlightRequests int
	// LagGroupID: the consumer group whose lag on the in-topic is reported.
	LagGroupID string
}

// vars lists every setting the gateway reads.
func vars() []config.Var {
	return append(config.CommonVars(HTTPAddr), MetricsAddr, AccessLog, ReplyPartitionCheckInterval, KafkaLinger, TrustIncomingTraceContext, MaxInFlightRequests, LagGroupID)
}

// EnvVars returns the primary names of the environment variables the gateway reads.
func EnvVars() []string {
	return config.Names(vars()...)
}

// Load reads the configuration from the environment; the error names every bad
// variable with its value.
func Load() (Config, error) {
	r := config.NewReader()
	cfg := Config{
		Common:                      r.Common(HTTPAddr),
		MetricsAddr:                 r.AddrOrOff(MetricsAddr, metrics.Disabled),
		AccessLog:                   r.OneOf(AccessLog, AccessLogErrors, AccessLogAll),
		ReplyPartitionCheckInterval: r.Duration(ReplyPartitionCheckInterval),
		KafkaLinger:                 r.NonNegativeDuration(KafkaLinger),
		TrustIncomingTraceContext:   r.Bool(TrustIncomingTraceContext),
		MaxInFlightRequests:         r.PositiveInt(MaxInFlightRequests, maxInFlightRequests),
		LagGroupID:                  r.String(LagGroupID),
	}
	if err := r.Err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
