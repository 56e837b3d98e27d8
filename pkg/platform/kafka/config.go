// Package kafka holds the sarama settings and record helpers both services share, so
// that the gateway's producer and the worker's consumer group agree on protocol version,
// delivery guarantees and headers.
package kafka

import (
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/backoff"
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
	cfg.Metadata.Retry.BackoffFunc = func(retries, _ int) time.Duration {
		return backoff.Jittered(200*time.Millisecond, time.Second, retries) // retries counts from 0
	}
	// A partition consumer that lost its leader asks again from 250ms on, not after a
	// fixed 2s, so a failover stalls fetching no longer than it must.
	cfg.Consumer.Retry.BackoffFunc = func(retries int) time.Duration {
		return backoff.Jittered(250*time.Millisecond, 2*time.Second, retries-1) // counts from 1
	}
	return cfg
}

// The producer's delivery window: how long a record is retried before its send fails,
// Kafka's delivery.timeout.ms in the terms sarama offers (a retry count, not a time).
//
// It must ride out a leader election. When a broker dies, its partitions have no
// working leader until the controller fences it, broker.session.timeout.ms (9s by
// default, Strimzi's too) after its last heartbeat, and elects another (well under a
// second on KRaft). During that time every attempt fails at once (refused connection,
// NOT_LEADER_OR_FOLLOWER), so the window is the sum of the backoffs between attempts:
// with retry n (0-based) waiting Step(100ms, 2s, n) = 0.1, 0.2, 0.4, 0.8, 1.6, 2, 2… s,
// jittered within [step/2, step], 14 retries add up to 21.1s at most and 10.55s at
// least: longer than the 9s + election in every draw.
//
// It must end before the gateway's own deadline: httpserver.New's WriteTimeout (30s),
// after which the client no longer gets an answer. With the leader gone, attempts fail
// at once, so the window is the 21.1s of backoff at most, plus metadata refreshes that
// a refused loopback or a live broker answers in milliseconds. With the leader alive
// and a follower gone, an attempt waits at most producerAckTimeout (3s) for the ISR;
// the fencing drops the follower from the ISR within the same 9s, and the next attempt
// succeeds: about 9s + 3s + the backoffs so far. Either way well under 30s, and the
// gateway answers 500 rather than nothing. Nothing is half-written: the idempotent
// producer deduplicates its own retries, so the record is in once or not at all.
// With no broker answering at all (the whole cluster down), sarama fails a send as soon
// as it cannot refresh metadata, and the gateway answers 500 within about a second.
const (
	producerRetries    = 14
	producerRetryMin   = 100 * time.Millisecond
	producerRetryMax   = 2 * time.Second
	producerAckTimeout = 3 * time.Second
)

// ProducerConfig returns settings for a producer that loses nothing the broker
// acknowledged and writes nothing twice on its own retries: every in-sync replica
// acknowledges, and the idempotent producer deduplicates retried batches.
func ProducerConfig(clientID string) *sarama.Config {
	cfg := baseConfig(clientID)
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	// The idempotent producer keeps ordering only with one request in flight per broker.
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Retry.Max = producerRetries
	cfg.Producer.Retry.BackoffFunc = func(retries, _ int) time.Duration {
		return backoff.Jittered(producerRetryMin, producerRetryMax, retries-1) // counts from 1
	}
	cfg.Producer.Timeout = producerAckTimeout
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	// Records with the same key (the correlation ID) land on the same partition, and on
	// the one the Java client, librdkafka's murmur2_random and aiokafka (FastStream)
	// choose: murmur2(key) & 0x7fffffff mod partitions. Records without a key are
	// spread at random.
	cfg.Producer.Partitioner = sarama.NewMurmur2Partitioner
	return cfg
}

// ConsumerConfig returns settings for a consumer outside any group, which reads
// partitions itself and commits nothing (the gateway's reply reader).
func ConsumerConfig(clientID string) *sarama.Config {
	cfg := baseConfig(clientID)
	cfg.Consumer.Return.Errors = true
	return cfg
}

// ConsumerGroupConfig returns settings for a consumer group member that commits only
// what the application marked (every second, when a partition is revoked and when the
// session ends) and starts a new group at the oldest record, so records written before
// the group first joined are not skipped.
func ConsumerGroupConfig(clientID string) *sarama.Config {
	cfg := ConsumerConfig(clientID)
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = true
	cfg.Consumer.Offsets.AutoCommit.Interval = time.Second
	// Cooperative rebalancing: a member joining or leaving moves only the partitions
	// that change owner; the others are never stopped. It needs a handler that notices
	// a revoked partition by its Messages() channel closing (the worker's claim loop
	// does). A group still on the eager "sticky" strategy cannot share a protocol with
	// it: upgrade such a group in two rolling deploys, first with
	// {NewBalanceStrategyCooperativeSticky(), NewBalanceStrategySticky()} (still eager),
	// then with this. The strategy is stateful: one per consumer group.
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyCooperativeSticky()}
	// sarama sends a partition's next fetch only once every record of the last one was
	// handed to the application, so each fetch round trip stalls the pipeline: 4 MiB per
	// partition (not 1) drained a backlog 1.25x faster (make bench, worker drain; 8 MiB
	// did no better). The whole response stays bounded however many partitions a
	// member owns, as the Java consumer's fetch.max.bytes bounds it: Fetch.MaxBytes
	// (sarama's default is 50 MiB; Fetch.Max only caps one partition's fetch as it
	// grows for a record larger than Fetch.Default).
	cfg.Consumer.Fetch.Default = 4 << 20
	cfg.Consumer.Fetch.Max = 16 << 20
	cfg.Consumer.Fetch.MaxBytes = 16 << 20
	cfg.Consumer.Group.Session.Timeout = 10 * time.Second
	// Members learn of a rebalance from a heartbeat's answer, and a cooperative one
	// takes two rounds (revoke, then assign): at 1s a moved partition idles about 2s.
	cfg.Consumer.Group.Heartbeat.Interval = time.Second
	return cfg
}
