// Package kafka holds the sarama settings and record helpers both services share, so
// that the gateway's producer and the worker's consumer group agree on protocol version,
// delivery guarantees and headers.
package kafka

import (
	"time"

	"github.com/IBM/sarama"
)

// protocolVersion is the Kafka protocol sarama speaks. Kafka 4 removed the request
// versions older than 2.1; 3.0 still reaches every broker from 3.0 on.
var protocolVersion = sarama.V3_0_0_0

func baseConfig(clientID string) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = clientID
	cfg.Version = protocolVersion
	// Fail fast on a dead broker so HTTP requests and probes answer within seconds.
	cfg.Net.DialTimeout = 3 * time.Second
	cfg.Net.ReadTimeout = 10 * time.Second
	cfg.Net.WriteTimeout = 10 * time.Second
	cfg.Metadata.Retry.Max = 2
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	return cfg
}

// ProducerConfig returns settings for a producer that loses nothing the broker
// acknowledged and writes nothing twice on its own retries: every in-sync replica
// acknowledges, and the idempotent producer deduplicates retried batches.
func ProducerConfig(clientID string) *sarama.Config {
	cfg := baseConfig(clientID)
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	// The idempotent producer keeps ordering only with one request in flight per broker.
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Retry.Max = 3
	cfg.Producer.Retry.Backoff = 100 * time.Millisecond
	cfg.Producer.Timeout = 5 * time.Second
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	// Records with the same key (the correlation ID) land on the same partition.
	cfg.Producer.Partitioner = sarama.NewHashPartitioner
	return cfg
}

// ConsumerGroupConfig returns settings for a consumer group member that commits only
// what the application marked and starts a new group at the oldest record, so records
// written before the group first joined are not skipped.
func ConsumerGroupConfig(clientID string) *sarama.Config {
	cfg := baseConfig(clientID)
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = true
	cfg.Consumer.Offsets.AutoCommit.Interval = time.Second
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategySticky()}
	cfg.Consumer.Group.Session.Timeout = 10 * time.Second
	cfg.Consumer.Group.Heartbeat.Interval = 3 * time.Second
	return cfg
}
