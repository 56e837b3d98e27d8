// Package transactional delivers a consumer group's outputs and consumed offsets in one
// Kafka transaction (KIP-447), the building block of DELIVERY=exactly-once.
//
// The seam it expects from the worker's engine (pkg/router, docs/exactly-once.md): per
// partition, the outputs (replies, dead letters) of the contiguous completed prefix of
// records, in offset order, and the offset after that prefix. Outputs of records above
// the lowest unfinished one must not be in a Batch.
package transactional

import (
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/backoff"
)

// ErrFenced: another producer with this instance's transactional ID, or a newer
// generation of the group, owns the work; the instance must stop, not retry.
var ErrFenced = errors.New("transactional: producer fenced")

// Batch is what one transaction commits.
type Batch struct {
	// Outputs in offset order of the records that produced them, per partition.
	Outputs []*sarama.ProducerMessage
	// Offsets: per topic, the next offset to consume of each partition in the batch.
	Offsets map[string][]*sarama.PartitionOffsetMetadata
}

// SendError lists the outputs the broker refused, which aborted the transaction; the
// caller may tell a refusal for good (a record too large, a missing topic) from a
// passing one by each error.
type SendError struct {
	Failed []*sarama.ProducerError
}

func (e *SendError) Error() string {
	return fmt.Sprintf("%d outputs refused, the first by %s: %v", len(e.Failed), e.Failed[0].Msg.Topic, e.Failed[0].Err)
}

// Unwrap returns each refusal's error, for errors.Is.
func (e *SendError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, pe := range e.Failed {
		errs[i] = pe.Err
	}
	return errs
}

// Observer records a transaction's outcome (metrics); nil observes nothing.
type Observer interface {
	Committed(d time.Duration)
	Aborted(d time.Duration)
}

// Delivery owns one transactional producer (one per worker instance). One goroutine
// at a time runs its transactions: Begin, Send as outputs are ready, CommitOffsets.
type Delivery struct {
	producer sarama.AsyncProducer
	observe  Observer
	results  *tally

	began time.Time
	sent  int // outputs sent in the open transaction
}

// Config returns a copy of base set up for a transactional producer with id: idempotent,
// one request in flight, acks from all in-sync replicas, results returned.
func Config(base *sarama.Config, id string) *sarama.Config {
	cfg := *base
	cfg.Producer.Transaction.ID = id
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.Transaction.Timeout = Timeout
	// While the producer adds a transaction's first partitions, it holds a lock that
	// its dispatcher needs for every message; a send then blocks once sarama's buffers
	// (256 messages by default) are full, and with it the engine's whole batching. The
	// worker's block profile had the batching goroutine waiting there 40 % of a drain.
	// Room for a whole transaction's outputs (TRANSACTION_MAX_RECORDS' default) lets it
	// go on: the drain rose by two thirds (BenchmarkWorkerExactlyOnce, 2,000 / 5 ms).
	cfg.ChannelBufferSize = max(cfg.ChannelBufferSize, txnSendBuffer)
	// The first send of a transaction begun right after a commit is refused
	// (CONCURRENT_TRANSACTIONS) until the broker has written the commit's markers,
	// a few ms; sarama's fixed 20-100 ms retry would add that to every transaction.
	// Retries from 2 ms doubling to 20 ms; after 25 of them every second, so the 50
	// still span a coordinator's failover (~25 s).
	cfg.Producer.Transaction.Retry.BackoffFunc = func(retries, _ int) time.Duration {
		if retries >= txnQuickRetries {
			return txnRetrySlow
		}
		return backoff.Step(txnRetryMin, txnRetryMax, retries)
	}
	return &cfg
}

const (
	txnSendBuffer   = 4096
	txnRetryMin     = 2 * time.Millisecond
	txnRetryMax     = 20 * time.Millisecond
	txnQuickRetries = 25
	txnRetrySlow    = time.Second
)

// Timeout is how long the broker lets a transaction stay open before it aborts it: at
// most that long, a crashed instance's open transaction holds back read_committed
// readers of the partitions it wrote to. A commit that takes longer (a broker failing
// over) is aborted by the broker and fences its producer, which the worker then
// replaces: slower, never wrong.
const Timeout = 10 * time.Second

// New starts the producer; it fences any older producer with the same transactional ID.
func New(brokers []string, cfg *sarama.Config, observe Observer) (*Delivery, error) {
	p, err := sarama.NewAsyncProducer(brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("transactional: producer %q: %w", cfg.Producer.Transaction.ID, err)
	}
	return Over(p, observe), nil
}

// Over delivers with p, a producer made with Config, whose results only the Delivery
// reads (a goroutine that ends when p is closed); closing p is the caller's.
func Over(p sarama.AsyncProducer, observe Observer) *Delivery {
	d := &Delivery{producer: p, observe: observe, results: newTally()}
	go d.results.collect(p)
	return d
}

// Commit puts b's outputs and offsets into one transaction: Begin, Send, CommitOffsets.
func (d *Delivery) Commit(group *sarama.ConsumerGroupMetadata, b Batch) error {
	if err := d.Begin(); err != nil {
		return err
	}
	for _, m := range b.Outputs {
		d.Send(m)
	}
	return d.CommitOffsets(group, b.Offsets)
}

// Begin opens a transaction. On error nothing is open and the caller must rewind, as
// after a failed CommitOffsets.
func (d *Delivery) Begin() error {
	d.began, d.sent = time.Now(), 0
	if err := d.producer.BeginTxn(); err != nil {
		return d.abort(d.began, fmt.Errorf("begin: %w", err))
	}
	return nil
}

// Send writes m in the open transaction now, so that its produce overlaps the
// handling of the records after it; its result counts at CommitOffsets. It blocks
// only while the producer's input is full.
func (d *Delivery) Send(m *sarama.ProducerMessage) {
	d.producer.Input() <- m
	d.sent++
}

// CommitOffsets waits for every output sent in the open transaction, then commits
// them with offsets and the group's metadata (generation and member: a zombie of an
// older generation is refused). On error the transaction is aborted and the caller
// must rewind to the last committed offsets (end the group session);
// errors.Is(err, ErrFenced) means stop this instance.
func (d *Delivery) CommitOffsets(group *sarama.ConsumerGroupMetadata, offsets map[string][]*sarama.PartitionOffsetMetadata) error {
	if err := d.commit(group, offsets); err != nil {
		return d.abort(d.began, err)
	}
	if d.observe != nil {
		d.observe.Committed(time.Since(d.began))
	}
	return nil
}

func (d *Delivery) commit(group *sarama.ConsumerGroupMetadata, offsets map[string][]*sarama.PartitionOffsetMetadata) error {
	// Every output's result first, so a failed send aborts this transaction, not a later one.
	failed, err := d.results.wait(d.sent)
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return &SendError{Failed: failed}
	}
	if err := d.producer.AddOffsetsToTxnWithGroupMetadata(offsets, group); err != nil {
		return fmt.Errorf("add offsets: %w", err)
	}
	if err := d.producer.CommitTxn(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (d *Delivery) abort(start time.Time, cause error) error {
	if d.observe != nil {
		defer func() { d.observe.Aborted(time.Since(start)) }()
	}
	if fenced(cause) || d.producer.TxnStatus()&sarama.ProducerTxnFlagFatalError != 0 {
		return fencedError(cause)
	}
	if d.producer.TxnStatus()&sarama.ProducerTxnFlagInTransaction != 0 ||
		d.producer.TxnStatus()&sarama.ProducerTxnFlagAbortableError != 0 {
		if err := d.producer.AbortTxn(); err != nil {
			if fenced(err) {
				return fencedError(err)
			}
			return fmt.Errorf("transactional: abort after %w: %w", cause, err)
		}
	}
	return fmt.Errorf("transactional: aborted: %w", cause)
}

func fenced(err error) bool {
	return refusal(err) != ""
}

func fencedError(cause error) error {
	return fmt.Errorf("%w%s: %w", ErrFenced, refusal(cause), cause)
}

// refusal names the broker's fencing error in err, e.g. " (PRODUCER_FENCED, error code
// 90)", or is "": sarama v1.61.1's text for code 90 is "Unknown error, how did this
// happen?", which an operator reading the abort's log line cannot act on.
func refusal(err error) string {
	for code, name := range fencingCodes {
		if errors.Is(err, code) {
			return fmt.Sprintf(" (%s, error code %d)", name, int16(code))
		}
	}
	return ""
}

var fencingCodes = map[sarama.KError]string{
	sarama.ErrProducerFenced:       "PRODUCER_FENCED",
	sarama.ErrInvalidProducerEpoch: "INVALID_PRODUCER_EPOCH",
	sarama.ErrFencedInstancedId:    "FENCED_INSTANCE_ID",
}

// Close stops the producer; an open transaction is aborted by the broker on timeout.
func (d *Delivery) Close() error {
	if err := d.producer.Close(); err != nil {
		return fmt.Errorf("transactional: close: %w", err)
	}
	return nil
}
