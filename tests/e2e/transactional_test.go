package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
)

// TestTransactionalDeliveryCommitsOnceAndFencesZombies: a batch's replies and its
// offset commit in one transaction with the group session's metadata (KIP-447); a
// read_committed reader sees each reply once; a producer fenced by a newer one with the
// same transactional ID cannot commit (ErrFenced), and nothing of its batch is visible.
func TestTransactionalDeliveryCommitsOnceAndFencesZombies(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	brokers := strings.Split(suite.brokers, ",")
	const n = 3
	for i := range n {
		produceToPartition(t, suite.brokers, tp.in, 0, fmt.Appendf(nil, "request-%d", i))
	}
	id := tp.group + "-0"
	first, err := transactional.New(brokers, transactional.Config(testClientConfig(), id), nil)
	if err != nil {
		t.Fatalf("transactional delivery: %v", err)
	}
	defer first.Close()

	// Consume the n records in the group and commit their replies and offset in one transaction.
	group, err := sarama.NewConsumerGroup(brokers, tp.group, groupConfig())
	if err != nil {
		t.Fatalf("consumer group: %v", err)
	}
	defer group.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h := &batchHandler{n: n, tp: tp, delivery: first, done: make(chan error, 1)}
	go func() { _ = group.Consume(ctx, []string{tp.in}, h) }()
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("commit the batch: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the batch was not consumed within 60s")
	}
	cancel()

	replies := readUntil(t, suite.brokers, tp.out, 30*time.Second, func(m []*sarama.ConsumerMessage) bool { return len(m) >= n })
	if len(replies) != n {
		t.Fatalf("%d committed replies, want %d", len(replies), n)
	}
	if got := committedOffset(t, tp, 0); got != n {
		t.Fatalf("group offset of %s/0 = %d, want %d (committed in the transaction)", tp.in, got, n)
	}

	// A second producer with the same ID (the instance's replacement) fences the first.
	second, err := transactional.New(brokers, transactional.Config(testClientConfig(), id), nil)
	if err != nil {
		t.Fatalf("second transactional delivery: %v", err)
	}
	defer second.Close()
	zombie := transactional.Batch{
		Outputs: []*sarama.ProducerMessage{{Topic: tp.out, Partition: 0, Value: sarama.StringEncoder("zombie")}},
		Offsets: map[string][]*sarama.PartitionOffsetMetadata{tp.in: {{Partition: 0, Offset: n + 1}}},
	}
	if err := first.Commit(sarama.NewConsumerGroupMetadata(tp.group), zombie); !errors.Is(err, transactional.ErrFenced) {
		t.Fatalf("the fenced producer's commit: %v, want ErrFenced", err)
	}
	replies = readUntil(t, suite.brokers, tp.out, 30*time.Second, func(m []*sarama.ConsumerMessage) bool { return len(m) >= n })
	for _, m := range replies {
		if string(m.Value) == "zombie" {
			t.Fatalf("the fenced producer's reply is visible to read_committed: %s/%d@%d", m.Topic, m.Partition, m.Offset)
		}
	}
	if len(replies) != n {
		t.Fatalf("%d committed replies after the zombie's attempt, want %d", len(replies), n)
	}
	if got := committedOffset(t, tp, 0); got != n {
		t.Fatalf("group offset of %s/0 = %d after the zombie's attempt, want %d", tp.in, got, n)
	}
}

func groupConfig() *sarama.Config {
	cfg := testClientConfig()
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	return cfg
}

// batchHandler collects n records of partition 0 and delivers their replies in one transaction.
type batchHandler struct {
	n        int
	tp       topics
	delivery *transactional.Delivery
	done     chan error
}

func (h *batchHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *batchHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *batchHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	var b transactional.Batch
	for msg := range claim.Messages() {
		b.Outputs = append(b.Outputs, &sarama.ProducerMessage{Topic: h.tp.out, Partition: msg.Partition, Value: sarama.ByteEncoder(append([]byte("reply-"), msg.Value...))})
		if len(b.Outputs) < h.n {
			continue
		}
		b.Offsets = map[string][]*sarama.PartitionOffsetMetadata{msg.Topic: {{Partition: msg.Partition, Offset: msg.Offset + 1}}}
		h.done <- h.delivery.Commit(sarama.NewConsumerGroupMetadataFromSession(s, h.tp.group, nil), b)
		return nil
	}
	return nil
}

// committedOffset is the group's committed offset of the in-topic's partition p.
func committedOffset(t *testing.T, tp topics, p int32) int64 {
	t.Helper()
	offsets, err := newAdmin(t, suite.brokers).ListConsumerGroupOffsets(tp.group, map[string][]int32{tp.in: {p}})
	if err != nil {
		t.Fatalf("group offsets: %v", err)
	}
	block := offsets.GetBlock(tp.in, p)
	if block == nil {
		t.Fatalf("no offset of %s/%d", tp.in, p)
	}
	return block.Offset
}
