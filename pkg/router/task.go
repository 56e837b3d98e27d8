package router

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/backoff"
	"github.com/streamgate/streamgate/pkg/platform/correlation"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/router/internal/deadletter"
)

// task is one taken record on its way through the handler to its output.
type task struct {
	rec *sarama.ConsumerMessage
	key string // ordering key (scheduler)
	// ctx carries the record's process span; it is cancelled when the claim gives up
	// waiting for running calls.
	ctx  context.Context
	span trace.Span
	call Call
	// replyTopic is where a reply goes: the route's ReplyTopic or an allowed reply_to
	// topic; "" for none.
	replyTopic string
	replyTo    bool

	started bool
	// Set by handle, read by the claim once the task is back on handled.
	fin     *Finished // nil when aborted
	lastErr error     // the last failed attempt's error
	// completed: fin is ready for the delivery (InOrder bookkeeping).
	completed bool
	// handedOver: fin is the delivery's (set by whoever handed it over).
	handedOver bool

	// The first attempt's deadline, allocated with the task: every record needs one.
	// (The reply's output is not: a task over 512 bytes costs the allocator more than
	// the allocation it saves, BenchmarkClaimPipeline.)
	firstDeadline lazyDeadline
}

func newTask(ctx context.Context, rt *route, rec *sarama.ConsumerMessage) *task {
	t := &task{rec: rec, ctx: ctx, span: trace.SpanFromContext(ctx)}
	// The header's ID is carried unchanged, whatever it is (FastStream requesters match
	// replies on it); log lines truncate it.
	id := kafka.HeaderBytes(rec.Headers, messages.HeaderCorrelationID)
	t.call = Call{Route: rt.name, Record: rec, CorrelationID: string(id), headerID: id}
	return t
}

// handle runs t's attempts on the calling goroutine: the route's CallFunc with
// Timeout, retried with backoff while the error is retryable and attempts remain, then
// OnExhausted or a dead letter. stopping aborts a backoff wait: the claim is ending and
// the record will be redelivered. It sets t.fin, or leaves it nil when aborted.
func (t *task) handle(rt *route, stopping <-chan struct{}, retried func()) {
	var wait *backoff.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		t.call.Attempt = attempt
		err = t.attempt(rt)
		if err == nil {
			t.fin = t.reply(rt)
			return
		}
		t.lastErr = err
		if t.ctx.Err() != nil {
			return // the claim stopped waiting for this call
		}
		if IsPermanent(err) || attempt >= rt.retry.MaxAttempts {
			break
		}
		if wait == nil {
			wait = backoff.New(rt.retry.MinBackoff, rt.retry.MaxBackoff)
		}
		retried()
		timer := time.NewTimer(wait.Next())
		select {
		case <-timer.C:
		case <-stopping:
			timer.Stop()
			return
		}
	}
	reason := failureReason(err)
	if rt.exhausted != nil && reason != deadletter.ReasonDecode {
		xerr := rt.exhausted(t.ctx, &t.call, err)
		if xerr == nil {
			t.fin = t.reply(rt)
			return
		}
		err = fmt.Errorf("%w (OnExhausted: %w)", err, xerr)
	}
	t.fin = t.deadLetter(rt, deadletter.New(reason, err))
}

// attempt runs one call under the route's timeout.
func (t *task) attempt(rt *route) error {
	if rt.timeout <= 0 {
		return rt.call(t.ctx, &t.call)
	}
	var ctx *lazyDeadline
	if t.call.Attempt == 1 {
		ctx = &t.firstDeadline
		ctx.start(t.ctx, rt.timeout)
	} else { // the first's ctx may still be held by what the handler started
		ctx = withLazyTimeout(t.ctx, rt.timeout)
	}
	defer ctx.release()
	return rt.call(ctx, &t.call)
}

// failureReason is the dead-letter reason for a call that failed for good with err.
func failureReason(err error) string {
	var decodeErr *DecodeError
	var encodeErr *EncodeError
	switch {
	case errors.As(err, &decodeErr):
		return deadletter.ReasonDecode
	case errors.As(err, &encodeErr):
		return deadletter.ReasonReplyEncode
	case IsPermanent(err):
		return deadletter.ReasonHandlerPermanent
	default:
		return deadletter.ReasonRetriesExhausted
	}
}

// reply is t's output after a successful call: the encoded reply for t.replyTopic, keyed
// by the reply's correlation ID and carrying the request's, as a FastStream subscriber
// answers; no output when the route publishes no reply.
func (t *task) reply(rt *route) *Finished {
	if t.replyTopic == "" {
		return t.finished(rt)
	}
	// One allocation for the Finished, its message, headers, key and value (a pointer
	// to an encoder is an encoder, where a boxed one is an allocation each). The
	// correlation ID's bytes are the request header's, and usually the key's too: a
	// string key would be copied by each Encode, the partitioner's and the producer's.
	id := t.call.correlationIDBytes()
	o := &replyOutput{
		f:     Finished{Record: t.rec, Route: rt.name, CorrelationID: t.call.CorrelationID, DeadLetterTopic: rt.dlqTopic, Ctx: t.ctx, ReplyTo: t.replyTo},
		value: t.call.replyValue,
		key:   id,
	}
	if t.call.replyKey != t.call.CorrelationID {
		o.key = []byte(t.call.replyKey)
	}
	o.msg = sarama.ProducerMessage{Topic: t.replyTopic, Value: &o.value, Headers: kafka.AppendHeaders(o.headers[:0], id)}
	if len(o.key) > 0 {
		o.msg.Key = &o.key
	}
	o.f.Output = &o.msg
	return &o.f
}

// replyOutput is what reply allocates at once.
type replyOutput struct {
	f          Finished
	msg        sarama.ProducerMessage
	headers    [2]sarama.RecordHeader
	value, key sarama.ByteEncoder
}

// deadLetter is t's output when the route gives up on it.
func (t *task) deadLetter(rt *route, reason *deadletter.Error) *Finished {
	f := t.finished(rt)
	if f.CorrelationID == "" && correlation.Valid(string(t.rec.Key)) {
		// Names an undecodable record in log lines.
		f.CorrelationID, t.call.CorrelationID = string(t.rec.Key), string(t.rec.Key)
	}
	f.Reason = reason
	f.Output = deadletter.Message(rt.dlqTopic, t.rec, reason)
	return f
}

func (t *task) finished(rt *route) *Finished {
	return &Finished{Record: t.rec, Route: rt.name, CorrelationID: t.call.CorrelationID, DeadLetterTopic: rt.dlqTopic, Ctx: t.ctx}
}
