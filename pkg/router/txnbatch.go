package router

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// txnRecord is a finished record waiting for its transaction.
type txnRecord struct {
	p        *Partition
	f        *Finished
	sendSpan trace.Span // the producer span of its output
	step     int        // how far RefusedOutputs replaced the output
}

// txnBatch collects the finished records of every claimed partition into
// transactions, one at a time: the first record opens one, each output is sent into it
// at once, and it commits by count and by time. Its goroutine (run) owns what it holds.
type txnBatch struct {
	cfg *Config
	tx  ExactlyOnceConfig

	records chan txnRecord // buffered: records keep coming while a transaction commits
	flushes chan chan error
	stop    chan struct{}
	stopped chan struct{}

	// failed is closed, err set before, once a transaction failed: nothing is
	// committed after it, and the caller ends the session (Failed).
	failed chan struct{}
	err    error
	once   sync.Once
}

func newTxnBatch(cfg *Config, tx ExactlyOnceConfig) *txnBatch {
	return &txnBatch{
		cfg: cfg, tx: tx,
		records: make(chan txnRecord, tx.MaxRecords),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		failed:  make(chan struct{}),
	}
}

// add hands r over; after a failure r is dropped (not Done: consumed again).
func (b *txnBatch) add(r txnRecord) {
	r.step = b.tx.Refused.apply(r.f, b.cfg.Log)
	if r.f.Output != nil {
		ctx, span := b.cfg.Tracing.StartSend(r.f.Ctx, r.f.Output.Topic)
		b.cfg.Tracing.Inject(ctx, r.f.Output)
		r.sendSpan = span
	}
	select {
	case b.records <- r:
	case <-b.failed:
		tracing.End(r.sendSpan, b.err)
	case <-b.stopped:
		tracing.End(r.sendSpan, errClosed)
	}
}

var (
	errClosed        = errors.New("router: exactly-once delivery closed")
	errOutputSkipped = errors.New("router: the broker refused even the stripped dead letter; the record was skipped")
)

// flush commits what is held now.
func (b *txnBatch) flush() error {
	done := make(chan error, 1)
	select {
	case b.flushes <- done:
		return <-done
	case <-b.failed:
		return b.err
	case <-b.stopped:
		return errClosed
	}
}

func (b *txnBatch) close() {
	close(b.stop)
	<-b.stopped
}

func (b *txnBatch) run() {
	defer close(b.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var held []*txnRecord // in the open transaction, their outputs sent
	open := false
	// due: MaxWait passed while finished records were queued. They join the open
	// transaction before it commits: its partitions are added already, and under a
	// backlog a transaction then fills up to MaxRecords instead of closing with what
	// the producer let through while it added them (each transaction's fixed cost, not
	// the records, bounds the drain).
	due := false
	commit := func() error {
		timer.Stop()
		err := b.commit(open, held)
		held, open, due = nil, false, false
		return err
	}
	add := func(r *txnRecord) {
		if b.dropped(r) {
			return
		}
		if !open {
			if err := b.tx.Committer.Begin(); err != nil {
				tracing.End(r.sendSpan, err)
				b.fail(err, 0, 0)
				return
			}
			open = true
			timer.Reset(b.tx.MaxWait)
		}
		held = append(held, r)
		if r.f.Output != nil {
			out := *r.f.Output // a copy: sarama keeps per-send state in the message
			out.Metadata = r   // what a refusal is remembered by (RefusedOutputs)
			b.tx.Committer.Send(&out)
		}
		if len(held) >= b.tx.MaxRecords {
			_ = commit()
		}
	}
	for {
		select {
		case r := <-b.records:
			add(&r)
			if due && len(b.records) == 0 {
				_ = commit()
			}
		case <-timer.C:
			if len(b.records) > 0 {
				due = true
				continue
			}
			_ = commit()
		case done := <-b.flushes:
			// A partition's Close flushes after its last Deliver: what it handed over
			// is queued before this request, so it is in the transaction committed now.
			for n := len(b.records); n > 0; n-- {
				r := <-b.records
				add(&r)
			}
			done <- commit()
		case <-b.stop:
			for _, r := range held {
				tracing.End(r.sendSpan, errClosed)
			}
			for n := len(b.records); n > 0; n-- {
				r := <-b.records
				tracing.End(r.sendSpan, errClosed)
			}
			return
		}
	}
}

// dropped ends r when a transaction failed: it is consumed again after the rewind.
func (b *txnBatch) dropped(r *txnRecord) bool {
	select {
	case <-b.failed:
		tracing.End(r.sendSpan, b.err)
		return true
	default:
		return false
	}
}

// commit commits the open transaction (if open): held, whose outputs were sent in the
// order handed over (offset order per partition), and each partition's next offset.
// On success every record is Done; on failure none is, and the batch fails for good.
func (b *txnBatch) commit(open bool, held []*txnRecord) error {
	select {
	case <-b.failed:
		for _, r := range held {
			tracing.End(r.sendSpan, b.err)
		}
		return b.err
	default:
	}
	if !open {
		return nil
	}
	offsets := map[string][]*sarama.PartitionOffsetMetadata{}
	next := map[*Partition]int64{}
	for _, r := range held {
		next[r.p] = r.f.Record.Offset + 1
	}
	for p, offset := range next {
		offsets[p.Topic] = append(offsets[p.Topic], &sarama.PartitionOffsetMetadata{Partition: p.Partition, Offset: offset})
	}
	// The generation as of now: a cooperative rebalance raises it within a session.
	sess := held[len(held)-1].p.Session
	began := time.Now()
	err := b.tx.Committer.CommitOffsets(sarama.NewConsumerGroupMetadataFromSession(sess, b.cfg.GroupID, nil), offsets)
	for _, r := range held {
		tracing.End(r.sendSpan, err)
	}
	if err != nil {
		b.tx.Refused.note(err)
		b.fail(err, len(held), time.Since(began))
		return b.err
	}
	for _, r := range held {
		var skipped error
		if r.step >= 3 {
			skipped = errOutputSkipped
		}
		r.p.Done(r.f, skipped)
	}
	if line := b.cfg.Log.Check(zap.DebugLevel, "transaction committed"); line != nil {
		line.Write(zap.Int("records", len(held)), zap.Int("partitions", len(next)), zap.Duration("commit_took", time.Since(began)))
	}
	return nil
}

func (b *txnBatch) fail(err error, records int, took time.Duration) {
	b.once.Do(func() {
		b.err = fmt.Errorf("router: transaction of %d records: %w", records, err)
		b.cfg.Log.Warn("transaction aborted; consuming again from the last committed offsets",
			zap.Int("records", records), zap.Duration("took", took),
			zap.Bool("fenced", errors.Is(err, transactional.ErrFenced)), zap.Error(err),
			logging.Operation(logging.OperationPublish))
		close(b.failed)
		b.tx.Failed(b.err)
	})
}
