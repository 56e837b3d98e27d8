package router

import (
	"context"
	"time"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/trace"
)

// The seam between "what a finished record produces" and "how it reaches Kafka and
// its offset is committed" (docs/handlers.md, docs/exactly-once.md). The engine runs
// handlers and turns each record into a Finished; a Delivery writes the Finished's
// output and reports back when it is durable. AtLeastOnce (an async producer, offsets
// marked once the contiguous prefix is acknowledged) is the default; a transactional
// delivery (exactly-once, issue 17) implements the same interface with InOrder true.

// Delivery delivers the outputs of finished records, for every claimed partition.
type Delivery interface {
	// InOrder true makes the engine hand over finished records per partition in offset
	// order, only as the contiguous prefix of finished records grows: outputs of records
	// above the lowest unfinished one are never delivered (what a transaction that also
	// commits the prefix's offset needs). False hands each over as soon as it finishes
	// (lower latency: a slow record does not hold the replies of later ones).
	InOrder() bool
	// Open starts delivering for one claimed partition; the claim's goroutine calls the
	// returned PartitionDelivery's methods.
	Open(p Partition) PartitionDelivery
}

// PartitionDelivery delivers the outputs of one claimed partition.
type PartitionDelivery interface {
	// Deliver takes one finished record; it must not block for long (the engine never
	// hands over more records than Config.MaxInFlight before they are Done).
	Deliver(f *Finished)
	// Close stops delivering: it waits at most drain for outputs already handed over,
	// and calls Done for no record after it returned. Undone records are redelivered
	// to the partition's next owner.
	Close(drain time.Duration)
}

// Partition is what a delivery gets to know about a claimed partition.
type Partition struct {
	Session   sarama.ConsumerGroupSession
	Topic     string
	Partition int32
	// Done reports that f's output is durable (err nil) or given up for good (err set,
	// e.g. a dead letter even the stripped form of which is refused); either way f is
	// finished and its offset may be committed once every earlier record is finished
	// too. The engine marks the offset on the session. Done may be called from any
	// goroutine, once per record, before Close returns.
	Done func(f *Finished, err error)
}

// Finished is a record the handler is done with, and what it produced.
type Finished struct {
	Record *sarama.ConsumerMessage
	// Route names the route that handled the record.
	Route string
	// CorrelationID names the record in log lines (truncate it there).
	CorrelationID string
	// Output is the reply or the dead letter to write; nil when the record produces
	// nothing (a route without ReplyTopic). A delivery may replace it, e.g. with a
	// dead letter when the reply's topic refuses it, and then sets Reason.
	Output *sarama.ProducerMessage
	// Reason is why Output is a dead letter; nil for a reply.
	Reason error
	// ReplyTo is set when Output is a reply to the topic the record's reply_to header
	// named (which the requester chose, and which may not exist).
	ReplyTo bool
	// DeadLetterTopic is the route's, for a reply that must become a dead letter.
	DeadLetterTopic string
	// Ctx carries the record's trace; a delivery parents its send spans on it.
	Ctx context.Context
}

// DeadLetter reports whether f's output is a dead letter.
func (f *Finished) DeadLetter() bool { return f.Reason != nil }

func spanOf(f *Finished) trace.Span { return trace.SpanFromContext(f.Ctx) }
