package consumer

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
	"github.com/streamgate/streamgate/pkg/platform/logging"
)

// Committer commits a batch's outputs and offsets in one transaction;
// *transactional.Delivery is one.
type Committer interface {
	Commit(group *sarama.ConsumerGroupMetadata, b transactional.Batch) error
}

// TransactionOptions configure exactly-once delivery.
type TransactionOptions struct {
	Delivery Committer // required; one per worker instance
	// A transaction commits once it holds MaxRecords records or its first record is
	// MaxWait old, whichever comes first.
	MaxRecords int
	MaxWait    time.Duration
	// Fenced is called once when the producer is fenced: this instance must stop
	// committing and get a new producer (the caller rebuilds the client).
	Fenced func(error)
}

// ExactlyOnce is a sarama.ConsumerGroupHandler that answers records like Handler but
// delivers their replies and dead letters, with the consumed offsets, in Kafka
// transactions (KIP-447): a read_committed reader sees each reply once, whatever
// crashes or rebalances. Nothing is marked in the session; the offsets are committed
// by the transactions alone.
//
// Records are answered as they are taken, in offset order, so each partition's
// outputs enter a transaction in offset order, up to the last record taken. When a
// transaction fails it is aborted and every claim returns, which ends the session:
// the next session starts from the last committed offsets.
type ExactlyOnce struct {
	*Handler
	tx TransactionOptions

	mu    sync.Mutex
	batch *txnBatch // the current session's
}

// NewExactlyOnce returns an ExactlyOnce handler; opts.Producer is not used.
func NewExactlyOnce(opts Options, tx TransactionOptions) (*ExactlyOnce, error) {
	if tx.Delivery == nil || tx.MaxRecords <= 0 || tx.MaxWait <= 0 {
		return nil, errors.New("consumer: Delivery, MaxRecords and MaxWait are required for exactly-once delivery")
	}
	h, err := newHandler(opts)
	if err != nil {
		return nil, err
	}
	return &ExactlyOnce{Handler: h, tx: tx}, nil
}

// Setup starts the session's transaction batcher.
func (h *ExactlyOnce) Setup(sess sarama.ConsumerGroupSession) error {
	b := newTxnBatch(&h.opts, h.tx, func() *sarama.ConsumerGroupMetadata {
		// The generation at commit time: a cooperative rebalance raises it mid-session.
		return sarama.NewConsumerGroupMetadataFromSession(sess, h.opts.GroupID, nil)
	})
	go b.run()
	h.mu.Lock()
	h.batch = b
	h.mu.Unlock()
	return h.Handler.Setup(sess)
}

// Cleanup stops the batcher once every claim has returned (and flushed).
func (h *ExactlyOnce) Cleanup(sess sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	b := h.batch
	h.batch = nil
	h.mu.Unlock()
	if b != nil {
		b.close()
	}
	return h.Handler.Cleanup(sess)
}

// ConsumeClaim answers the partition's records into the session's transactions until
// the claim is revoked or the session ends, and then commits what it added; it returns
// at once when a transaction failed, so that the session ends and rewinds.
func (h *ExactlyOnce) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	h.mu.Lock()
	b := h.batch
	h.mu.Unlock()
	c := &txnClaim{
		h: h, b: b, claim: claim,
		partition: newPartitionState(h.opts.Metrics, claim, h.opts.StuckThreshold, h.opts.Log),
	}
	c.committed.Store(-1)
	h.opts.Log.Info("claim started",
		zap.String("topic", claim.Topic()),
		zap.Int32("partition", claim.Partition()),
		zap.Int64("initial_offset", claim.InitialOffset()),
		zap.String("delivery", "exactly-once"))
	revoked, err := c.run(sess)
	c.partition.release()
	fields := []zap.Field{
		zap.String("topic", claim.Topic()),
		zap.Int32("partition", claim.Partition()),
		zap.Bool("revoked", revoked && sess.Context().Err() == nil),
	}
	if err != nil {
		fields = append(fields, zap.NamedError("transaction_error", err))
	}
	h.opts.Log.Info("claim finished", fields...)
	return nil
}

// txnClaim is one claimed partition in exactly-once mode; its goroutine owns it, but
// committed is set by the batcher.
type txnClaim struct {
	h         *ExactlyOnce
	b         *txnBatch
	claim     sarama.ConsumerGroupClaim
	partition *partitionState
	committed atomic.Int64 // next offset committed by a transaction; -1 until one did
}

// run takes records until the claim closes (then flushes) or a transaction fails. It
// reports whether the claim was closed by sarama and the transaction error, if any.
func (c *txnClaim) run(sess sarama.ConsumerGroupSession) (closed bool, err error) {
	opts := &c.h.opts
	received := opts.Metrics.RecordsReceived.WithLabelValues(c.claim.Topic())
	observe := time.NewTicker(opts.ObserveInterval)
	defer observe.Stop()
	for {
		select {
		case rec, ok := <-c.claim.Messages():
			if !ok {
				// Revoked, or the session ends: commit what this partition added, so that
				// its next owner starts after it.
				return true, c.b.flush()
			}
			p := newPending(rec, opts, nil)
			received.Inc()
			c.partition.taken(rec.Offset)
			if line := opts.Log.Check(zap.DebugLevel, "received"); line != nil {
				line.Write(takenFields(p, rec, logging.Status(messages.StatusReceived))...)
			}
			if p.deadLetter() {
				opts.Log.Warn("malformed record; sending it to the dead-letter topic", append(takenFields(p, rec, logging.Status(messages.StatusFailed)),
					zap.String("dlq_topic", opts.DLQTopic), zap.NamedError("reason", p.reason))...)
			}
			if err := c.b.add(txnRecord{claim: c, p: p}); err != nil {
				return false, err
			}
		case <-c.b.failed:
			return false, c.b.err
		case now := <-observe.C:
			if next := c.committed.Load(); next >= 0 {
				c.partition.marked(next)
			}
			c.partition.observe(now, c.claim.HighWaterMarkOffset(), 0, time.Time{}, false, nil)
		case <-sess.Context().Done():
			return true, c.b.flush()
		}
	}
}
