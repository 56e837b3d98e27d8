// Package config reads the worker's settings from the environment.
//
// It is exported so that deployment manifests can be checked against EnvVars.
package config

import (
	"fmt"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
	platform "github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/platform/metrics"
)

// The worker's own settings; the ones it shares with the gateway live in the platform
// config package.
var (
	httpAddr = platform.Var{Name: "HTTP_ADDR", Default: ":8081"}
	outTopic = platform.Var{Name: "KAFKA_OUT_TOPIC", Default: messages.TopicOut}
	dlqTopic = platform.Var{Name: "KAFKA_DLQ_TOPIC", Default: messages.TopicDeadLetter}
	groupID  = platform.Var{Name: "KAFKA_GROUP_ID", Default: "streamgate-worker"}
	// metricsAddr is where /metrics is served, apart from the probes; "off" turns it off.
	metricsAddr = platform.Var{Name: "METRICS_ADDR", Default: ":9091"}
	// stuckThreshold: a partition whose oldest unfinished record is older is stuck.
	stuckThreshold = platform.Var{Name: "STUCK_PARTITION_THRESHOLD", Default: "60s"}
	// delivery: at-least-once, or exactly-once with Kafka transactions (docs/exactly-once.md).
	delivery = platform.Var{Name: "DELIVERY", Default: AtLeastOnce}
	// A transaction commits once it holds this many records or is this old, whichever
	// comes first (exactly-once only).
	transactionMaxRecords = platform.Var{Name: "TRANSACTION_MAX_RECORDS", Default: "500"}
	transactionMaxWait    = platform.Var{Name: "TRANSACTION_MAX_WAIT", Default: "100ms"}
)

// The DELIVERY modes.
const (
	AtLeastOnce = "at-least-once"
	ExactlyOnce = "exactly-once"
)

// maxTransactionRecords bounds TRANSACTION_MAX_RECORDS: every record of a transaction
// is held, with its output, until the commit.
const maxTransactionRecords = 10_000

// Config is everything the worker reads at start-up.
type Config struct {
	platform.Common
	OutTopic string // replies
	DLQTopic string // malformed records, copied unchanged
	GroupID  string // consumer group on the in-topic

	MetricsAddr    string // host:port, or metrics.Disabled
	StuckThreshold time.Duration

	Delivery    string // AtLeastOnce or ExactlyOnce
	Transaction Transaction
}

// Transaction is how exactly-once delivery batches records into transactions.
type Transaction struct {
	MaxRecords int
	MaxWait    time.Duration
}

// vars lists every setting the worker reads, in the order the README documents them.
func vars() []platform.Var {
	return append(platform.CommonVars(httpAddr), outTopic, dlqTopic, groupID, metricsAddr, stuckThreshold,
		delivery, transactionMaxRecords, transactionMaxWait)
}

// EnvVars returns the primary names (aliases excluded) of every environment variable
// the worker reads.
func EnvVars() []string {
	return platform.Names(vars()...)
}

// Load reads the configuration from the environment. The error names every bad
// variable and its value.
func Load() (Config, error) {
	r := platform.NewReader()
	cfg := Config{
		Common:   r.Common(httpAddr),
		OutTopic: r.String(outTopic),
		DLQTopic: r.String(dlqTopic),
		GroupID:  r.String(groupID),

		MetricsAddr:    r.AddrOrOff(metricsAddr, metrics.Disabled),
		StuckThreshold: r.Duration(stuckThreshold),

		Delivery: r.OneOf(delivery, AtLeastOnce, ExactlyOnce),
		Transaction: Transaction{
			MaxRecords: r.PositiveInt(transactionMaxRecords, maxTransactionRecords),
			MaxWait:    r.Duration(transactionMaxWait),
		},
	}
	if err := r.Err(); err != nil {
		return Config{}, err
	}
	// Replies are valid requests as far as DecodeRequest is concerned, and dead letters
	// are malformed again: either topic equal to the in-topic would feed the worker its
	// own output forever.
	for _, v := range []struct {
		name, value string
	}{{outTopic.Name, cfg.OutTopic}, {dlqTopic.Name, cfg.DLQTopic}} {
		if v.value == cfg.InTopic {
			return Config{}, fmt.Errorf("invalid configuration: %s=%q: must differ from %s, or the worker would consume its own output",
				v.name, v.value, platform.KafkaInTopic.Name)
		}
	}
	return cfg, nil
}
