package consumer

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
	"github.com/streamgate/streamgate/services/worker/internal/deadletter"
)

// txnRecord is a taken record with its output, waiting for its transaction.
type txnRecord struct {
	claim *txnClaim
	p     *pending
}

// txnBatch collects the records of one session's claims and commits them in
// transactions, one at a time, by count and by time. Its goroutine (run) owns the
// records; the claims hand them over in offset order per partition.
type txnBatch struct {
	opts  *Options
	tx    TransactionOptions
	group func() *sarama.ConsumerGroupMetadata

	records chan txnRecord
	flushes chan chan error
	stop    chan struct{}
	stopped chan struct{}

	// failed is closed, with err set before, when a transaction failed: the session
	// must end so that the next one rewinds to the committed offsets.
	failed chan struct{}
	err    error
	once   sync.Once
}

func newTxnBatch(opts *Options, tx TransactionOptions, group func() *sarama.ConsumerGroupMetadata) *txnBatch {
	return &txnBatch{
		opts: opts, tx: tx, group: group,
		records: make(chan txnRecord),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		failed:  make(chan struct{}),
	}
}

// add hands r over; it returns the transaction error once one failed.
func (b *txnBatch) add(r txnRecord) error {
	select {
	case b.records <- r:
		return nil
	case <-b.failed:
		return b.err
	}
}

// flush commits what is held now.
func (b *txnBatch) flush() error {
	done := make(chan error, 1)
	select {
	case b.flushes <- done:
		return <-done
	case <-b.failed:
		return b.err
	}
}

// close stops run; records still held are not committed (they are consumed again).
func (b *txnBatch) close() {
	close(b.stop)
	<-b.stopped
}

func (b *txnBatch) run() {
	defer close(b.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var held []txnRecord
	commit := func() error {
		timer.Stop()
		err := b.commit(held)
		held = nil
		return err
	}
	for {
		select {
		case r := <-b.records:
			held = append(held, r)
			if len(held) == 1 {
				timer.Reset(b.tx.MaxWait)
			}
			if len(held) >= b.tx.MaxRecords {
				_ = commit()
			}
		case <-timer.C:
			_ = commit()
		case done := <-b.flushes:
			done <- commit()
		case <-b.stop:
			return
		}
	}
}

// commit puts held into one transaction. On failure it settles nothing as done and
// fails the batch for good: the session must rewind.
func (b *txnBatch) commit(held []txnRecord) error {
	select {
	case <-b.failed:
		for _, r := range held {
			r.p.settle(b.err)
		}
		return b.err
	default:
	}
	if len(held) == 0 {
		return nil
	}
	batch := transactional.Batch{Offsets: map[string][]*sarama.PartitionOffsetMetadata{}}
	next := map[*txnClaim]int64{}
	for _, r := range held {
		out := r.p.out // a copy: sarama keeps per-send state in the message
		batch.Outputs = append(batch.Outputs, &out)
		next[r.claim] = r.p.rec.Offset + 1 // held in offset order per partition
	}
	for c, offset := range next {
		topic := c.claim.Topic()
		batch.Offsets[topic] = append(batch.Offsets[topic], &sarama.PartitionOffsetMetadata{Partition: c.claim.Partition(), Offset: offset})
	}
	began := time.Now()
	err := b.tx.Delivery.Commit(b.group(), batch)
	for _, r := range held {
		r.p.settle(err)
	}
	if err != nil {
		b.fail(err, len(held), time.Since(began))
		return b.err
	}
	for c, offset := range next {
		c.committed.Store(offset)
	}
	for _, r := range held {
		if r.p.deadLetter() {
			b.opts.Metrics.DeadLetters.WithLabelValues(deadletter.Reason(r.p.reason)).Inc()
		} else {
			b.opts.Metrics.RepliesPublished.WithLabelValues(b.opts.OutTopic).Inc()
		}
	}
	if line := b.opts.Log.Check(zap.DebugLevel, "transaction committed"); line != nil {
		line.Write(zap.Int("records", len(held)), zap.Int("partitions", len(next)), zap.Duration("took", time.Since(began)))
	}
	return nil
}

func (b *txnBatch) fail(err error, records int, took time.Duration) {
	b.once.Do(func() {
		b.err = fmt.Errorf("consumer: transaction of %d records: %w", records, err)
		fenced := errors.Is(err, transactional.ErrFenced)
		b.opts.Log.Warn("transaction aborted; consuming again from the last committed offsets",
			zap.Int("records", records), zap.Duration("took", took), zap.Bool("fenced", fenced), zap.Error(err))
		close(b.failed)
		if fenced && b.tx.Fenced != nil {
			b.tx.Fenced(err)
		}
	})
}
