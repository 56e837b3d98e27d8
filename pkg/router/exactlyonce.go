package router

import (
	"errors"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// Committer runs the instance's transactions, one at a time: Begin, Send each output
// as its record is handed over, CommitOffsets (which aborts on error);
// *transactional.Delivery is one.
type Committer interface {
	Begin() error
	Send(m *sarama.ProducerMessage)
	CommitOffsets(group *sarama.ConsumerGroupMetadata, offsets map[string][]*sarama.PartitionOffsetMetadata) error
}

// Defaults of ExactlyOnceConfig's zero values.
const (
	DefaultTransactionMaxRecords = 8000
	DefaultTransactionMaxWait    = 5 * time.Millisecond
)

// ExactlyOnceConfig configures ExactlyOnce.
type ExactlyOnceConfig struct {
	// Committer is the instance's one transactional producer; required.
	Committer Committer
	// A transaction commits once it holds MaxRecords records or, once its first record
	// is MaxWait old, as soon as no finished record waits to join it: transactions per
	// second are the cost. Its outputs are sent as records are handed over, not at the
	// commit.
	MaxRecords int
	MaxWait    time.Duration
	// Failed is called once when a transaction fails (it was aborted): the caller must
	// end the consumer group session, so that the records are consumed again from the
	// last committed offsets, and, if errors.Is(err, transactional.ErrFenced), replace
	// the producer. Required.
	Failed func(err error)
	// Refused remembers outputs the broker refused for good, across the clients the
	// caller builds after each failure; one of its own by default.
	Refused *RefusedOutputs
}

// ExactlyOnce delivers outputs and the consumed offsets in Kafka transactions with the
// consumer group's metadata (KIP-447): a read_committed reader sees each reply and
// dead letter once, whatever crashes, rebalances or zombies. The engine hands records
// over per partition in offset order of the contiguous finished prefix (InOrder), so a
// transaction never holds an output without every earlier record's. Records are Done
// when their transaction committed. Close it after the consumer group's last session.
type ExactlyOnce struct {
	batch *txnBatch
}

// ExactlyOnce returns the exactly-once delivery; its batching goroutine runs until Close.
func (r *Router) ExactlyOnce(cfg ExactlyOnceConfig) (*ExactlyOnce, error) {
	if cfg.Committer == nil || cfg.Failed == nil {
		return nil, errors.New("router: exactly-once delivery needs a Committer and Failed")
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = DefaultTransactionMaxRecords
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultTransactionMaxWait
	}
	if cfg.Refused == nil {
		cfg.Refused = NewRefusedOutputs()
	}
	b := newTxnBatch(&r.cfg, cfg)
	go b.run()
	return &ExactlyOnce{batch: b}, nil
}

// InOrder is true: a transaction commits a partition's offset with the outputs of
// every record below it.
func (d *ExactlyOnce) InOrder() bool { return true }

// Open returns the partition's handle on the shared transactions.
func (d *ExactlyOnce) Open(p Partition) PartitionDelivery {
	return &eosPartition{batch: d.batch, p: &p}
}

// Close stops the batching goroutine; what it holds is not committed (consumed again).
func (d *ExactlyOnce) Close() {
	d.batch.close()
}

// eosPartition hands one partition's finished records to the batch.
type eosPartition struct {
	batch  *txnBatch
	p      *Partition
	closed sync.Once
}

// Deliver waits at most for the transaction being committed.
func (e *eosPartition) Deliver(f *Finished) {
	e.batch.add(txnRecord{p: e.p, f: f})
}

// Close commits what this partition handed over, so its next owner starts after it;
// the drain bound does not apply (a commit is bounded by the producer's timeouts).
func (e *eosPartition) Close(time.Duration) {
	e.closed.Do(func() { _ = e.batch.flush() })
}
