// Package consumer answers the requests of a consumer group session: for each record it
// publishes a reply (or, for a malformed record, a dead letter) through an async
// producer, and marks the record's offset once that write and every earlier one of the
// partition are acknowledged. A crash therefore never loses a request; it may answer
// one twice (at-least-once).
package consumer

import (
	"errors"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/worker/metrics"
)

// ErrNoSession is the readiness error while the worker is not in a consumer group
// session, so gets no records.
var ErrNoSession = errors.New("no consumer group session")

// Defaults for the zero values of Options.
const (
	DefaultMaxInFlight  = 1024
	DefaultReadAhead    = 4096
	DefaultDrainTimeout = 5 * time.Second
	DefaultRetryMin     = 100 * time.Millisecond
	DefaultRetryMax     = 5 * time.Second
	// DefaultStuckThreshold is how long the oldest unfinished record of a partition
	// may wait before the partition counts as stuck.
	DefaultStuckThreshold = 60 * time.Second
	// DefaultObserveInterval is how often a claim refreshes its lag, age and stuck
	// state between records.
	DefaultObserveInterval = time.Second
)

// Producer is where the handler sends replies and dead letters: the Input of a
// sarama.AsyncProducer whose results are routed back by Dispatch.
type Producer interface {
	Input() chan<- *sarama.ProducerMessage
}

// Readiness records whether the worker is in a session; probe.Readiness is one.
type Readiness interface {
	Set(err error)
}

// Options configure a Handler. OutTopic, DLQTopic, Producer and Log are required.
type Options struct {
	OutTopic string // replies
	DLQTopic string // malformed records
	Producer Producer
	Log      *zap.Logger
	Ready    Readiness // optional

	// MaxInFlight bounds the records of one partition taken but not yet marked; the
	// handler stops reading the partition while it is reached.
	MaxInFlight int
	// ReadAhead bounds the records of one partition read but not yet taken (while
	// MaxInFlight is reached or the producer takes no more); the claim pauses the
	// partition's fetching while it holds that many, and as soon as it holds one while
	// a write waits for its retry. Pausing as soon as one record waits stalls a busy worker: sarama's
	// fetcher naps 100ms whenever every partition it serves is paused, so with
	// ReadAhead 1 a backlog drained at 0.6-0.8x the rate of 4096 (docs/perf, round 2).
	// What a claim holds stays bounded: ReadAhead plus one fetch.
	ReadAhead int
	// DrainTimeout bounds how long a claim that ends waits for the acknowledgements
	// of writes already sent, so that it can mark them.
	DrainTimeout time.Duration
	// RetryMin and RetryMax bound the backoff between attempts to write a record the
	// producer failed to deliver.
	RetryMin, RetryMax time.Duration
	// Now stamps replies; time.Now by default.
	Now func() time.Time

	// Metrics records what the handler does; a registry of its own by default.
	Metrics *metrics.Metrics
	// Tracing continues the trace of each record; tracing.Disabled() by default.
	Tracing *tracing.Tracing
	// GroupID names the consumer group on the spans.
	GroupID string
	// StuckThreshold: a partition whose oldest unfinished record is older is stuck
	// (a metric and a warning).
	StuckThreshold time.Duration
	// ObserveInterval is how often each claim refreshes lag, age and stuck state.
	ObserveInterval time.Duration
}

// Handler is a sarama.ConsumerGroupHandler. Its methods are safe to call concurrently,
// as sarama does: one ConsumeClaim per claimed partition.
type Handler struct {
	opts Options
}

var _ sarama.ConsumerGroupHandler = (*Handler)(nil)

// New returns a Handler; zero optional Options take their defaults.
func New(opts Options) (*Handler, error) {
	if opts.Producer == nil {
		return nil, errors.New("consumer: Producer is required")
	}
	return newHandler(opts)
}

// newHandler is New without the Producer, which exactly-once delivery does not use.
func newHandler(opts Options) (*Handler, error) {
	switch {
	case opts.OutTopic == "" || opts.DLQTopic == "":
		return nil, errors.New("consumer: OutTopic and DLQTopic are required")
	case opts.Log == nil:
		return nil, errors.New("consumer: Log is required")
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.ReadAhead <= 0 {
		opts.ReadAhead = DefaultReadAhead
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = DefaultDrainTimeout
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = DefaultRetryMin
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(DefaultRetryMax, opts.RetryMin)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Ready == nil {
		opts.Ready = noReadiness{}
	}
	if opts.StuckThreshold <= 0 {
		opts.StuckThreshold = DefaultStuckThreshold
	}
	if opts.ObserveInterval <= 0 {
		opts.ObserveInterval = DefaultObserveInterval
	}
	if opts.Tracing == nil {
		opts.Tracing = tracing.Disabled()
	}
	if opts.Metrics == nil {
		m, err := metrics.New("")
		if err != nil {
			return nil, err
		}
		opts.Metrics = m
	}
	return &Handler{opts: opts}, nil
}

// Setup runs when a session starts: the worker gets records from now on.
func (h *Handler) Setup(sess sarama.ConsumerGroupSession) error {
	h.opts.Log.Info("consumer group session started",
		zap.String("member_id", sess.MemberID()),
		zap.Int32("generation", sess.GenerationID()),
		zap.Any("claims", sess.Claims()))
	h.opts.Metrics.Rebalances.Inc()
	h.opts.Metrics.SessionActive.Set(1)
	h.opts.Metrics.Registry.KafkaConnected.Set(1)
	h.opts.Ready.Set(nil)
	return nil
}

// Cleanup runs when a session ends, after every ConsumeClaim returned.
func (h *Handler) Cleanup(sess sarama.ConsumerGroupSession) error {
	h.opts.Ready.Set(ErrNoSession)
	h.opts.Metrics.SessionActive.Set(0)
	h.opts.Log.Info("consumer group session ended", zap.Int32("generation", sess.GenerationID()))
	return nil
}

// ConsumeClaim processes one partition until the session ends or the partition is
// revoked, then waits at most DrainTimeout for outstanding writes and marks what they
// finished. It does not commit: sarama commits every marked offset once, when the
// claims it revoked have returned (cooperative) or when the session ends, rather than
// once per claim.
func (h *Handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	c := newClaimLoop(h, sess, claim)
	h.opts.Log.Info("claim started",
		zap.String("topic", claim.Topic()),
		zap.Int32("partition", claim.Partition()),
		zap.Int64("initial_offset", claim.InitialOffset()))
	c.run()
	c.drain()
	c.partition.release()
	h.opts.Log.Info("claim finished",
		zap.String("topic", claim.Topic()),
		zap.Int32("partition", claim.Partition()),
		zap.Bool("revoked", c.records == nil && sess.Context().Err() == nil),
		zap.Int("unfinished", c.pending.Len()),
		zap.Int("not_taken", len(c.backlog)))
	return nil
}

type noReadiness struct{}

func (noReadiness) Set(error) {}
