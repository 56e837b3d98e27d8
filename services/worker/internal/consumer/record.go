package consumer

import (
	"context"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/correlation"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/worker/internal/deadletter"
	"github.com/streamgate/streamgate/services/worker/internal/reply"
)

// pending is a consumed record whose write (reply or dead letter) is not acknowledged
// yet. It rides along as the producer message's Metadata, so Dispatch can hand the
// outcome back to the claim that owns it.
type pending struct {
	rec *sarama.ConsumerMessage
	id  string // correlation ID, for every log line about the record
	// out is the write to make; each attempt sends a fresh copy, since sarama keeps
	// per-send state in the message it was given.
	out sarama.ProducerMessage
	// reason is why the record is dead-lettered; nil for a reply.
	reason error
	// replyTo is set when the reply goes to the topic the request's reply_to header
	// names, which the requester chose and the worker may be unable to write to.
	replyTo bool
	// stripped is set once the dead letter was cut down to its dlq_* headers.
	stripped bool
	attempts int
	// ctx carries the record's process span, sendCtx the producer span of its write;
	// both end once the write is settled.
	ctx, sendCtx context.Context
	span, send   trace.Span
	// results is the owning claim's channel.
	results chan<- *pending

	// Set by Dispatch before it sends the pending back on results.
	err  error
	sent *sarama.ProducerMessage
}

func (p *pending) deadLetter() bool { return p.reason != nil }

// newPending decodes rec and prepares its reply, or its dead letter when it breaks the
// contract, under a process span that continues the record's trace.
func newPending(rec *sarama.ConsumerMessage, opts *Options, results chan<- *pending) *pending {
	p := &pending{rec: rec, results: results}
	p.ctx, p.span = opts.Tracing.StartProcess(context.Background(), rec, opts.GroupID)
	p.prepare(opts)
	p.sendCtx, p.send = opts.Tracing.StartSend(p.ctx, p.out.Topic)
	opts.Tracing.Inject(p.sendCtx, &p.out)
	return p
}

func (p *pending) prepare(opts *Options) {
	req, err := messages.DecodeRequest(p.rec.Value)
	if err == nil {
		var out *sarama.ProducerMessage
		if out, err = reply.Message(opts.OutTopic, p.rec, req, opts.Now()); err == nil {
			p.id, p.out = req.CorrelationID, *out
			p.replyTo = kafka.Header(p.rec.Headers, messages.HeaderReplyTo) != ""
			return
		}
	}
	p.id, p.reason = recordCorrelationID(p.rec), err
	p.out = *deadletter.Message(opts.DLQTopic, p.rec, err)
}

// settle ends the record's spans: its write succeeded when err is nil.
func (p *pending) settle(err error) {
	if err == nil && p.sent != nil {
		tracing.Sent(p.send, p.sent.Partition, p.sent.Offset)
	}
	tracing.End(p.send, err)
	if err == nil {
		err = p.reason // a dead letter: the record itself failed
	}
	tracing.End(p.span, err)
}

// recordCorrelationID names a record whose body could not be read: by its
// correlation_id header, else by its key, whichever passes correlation.Valid first (so a
// hostile record cannot blow up logs), else "".
func recordCorrelationID(rec *sarama.ConsumerMessage) string {
	for _, id := range []string{kafka.Header(rec.Headers, messages.HeaderCorrelationID), string(rec.Key)} {
		if correlation.Valid(id) {
			return id
		}
	}
	return ""
}
