package router

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/backoff"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/pkg/router/internal/deadletter"
)

// Producer is where AtLeastOnce sends outputs: the Input of a sarama.AsyncProducer
// whose results come back through Dispatch.
type Producer interface {
	Input() chan<- *sarama.ProducerMessage
}

// ProducerResults is the part of a sarama.AsyncProducer Dispatch reads.
type ProducerResults interface {
	Successes() <-chan *sarama.ProducerMessage
	Errors() <-chan *sarama.ProducerError
}

// AtLeastOnce delivers outputs through an async producer (Return.Successes and
// Return.Errors on) as soon as each record finishes, and reports each record Done once
// the broker acknowledged its output. A failed write is retried with backoff; a reply
// the broker refuses for good (too large, a reply_to topic that does not exist or may
// not be written) is dead-lettered instead, and a dead letter too large to write is
// sent again without the record's key, value and headers, else skipped. A crash between
// the write and the commit answers the record twice: at-least-once.
type AtLeastOnce struct {
	producer Producer
	cfg      *Config
}

// AtLeastOnce returns the at-least-once delivery over producer; run Dispatch on the
// producer's results.
func (r *Router) AtLeastOnce(producer Producer) *AtLeastOnce {
	return &AtLeastOnce{producer: producer, cfg: &r.cfg}
}

// InOrder is false: each record's output goes out as soon as it is ready.
func (d *AtLeastOnce) InOrder() bool { return false }

// Open starts the partition's writer goroutine; Close stops it.
func (d *AtLeastOnce) Open(p Partition) PartitionDelivery {
	w := &aloPartition{
		d: d, p: p, log: d.cfg.Log,
		in:      newMailbox[*write](d.cfg.MaxInFlight),
		results: newMailbox[*write](d.cfg.MaxInFlight),
		stop:    make(chan time.Duration),
		stopped: make(chan struct{}),
		backoff: backoff.New(d.cfg.WriteRetryMin, d.cfg.WriteRetryMax),
	}
	go w.run()
	return w
}

// write is one finished record's output on its way to the broker. It rides along as
// the producer message's Metadata, so Dispatch can hand the outcome back.
type write struct {
	f        *Finished
	results  *mailbox[*write]
	stripped bool // the dead letter was cut down to its dlq_* headers
	attempts int
	sendCtx  context.Context
	sendSpan trace.Span

	// Set by Dispatch before it sends the write back on results.
	err  error
	sent *sarama.ProducerMessage
}

// Dispatch routes the producer's results back to the partition that sent each message.
// It returns once the producer is closed and both channels are drained; the caller owns
// the goroutine that runs it. failed, when not nil, sees every write error first (the
// runner watches them for credentials the cluster refuses).
func (d *AtLeastOnce) Dispatch(producer ProducerResults, failed func(error)) {
	successes, errs := producer.Successes(), producer.Errors()
	for successes != nil || errs != nil {
		select {
		case msg, ok := <-successes:
			if !ok {
				successes = nil
				continue
			}
			d.deliver(msg, nil)
		case perr, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if failed != nil {
				failed(perr.Err)
			}
			d.deliver(perr.Msg, perr.Err)
		}
	}
}

func (d *AtLeastOnce) deliver(msg *sarama.ProducerMessage, err error) {
	w, ok := msg.Metadata.(*write)
	if !ok {
		d.cfg.Log.Error("producer result for a message the router did not send", logging.Topic(msg.Topic), zap.Error(err))
		return
	}
	w.err, w.sent = err, msg
	w.results.put(w) // never blocks, even after the partition stopped reading
}

// aloPartition writes one partition's outputs; everything in it belongs to its run
// goroutine.
type aloPartition struct {
	d   *AtLeastOnce
	p   Partition
	log *zap.Logger

	in       *mailbox[*write] // from Deliver
	results  *mailbox[*write] // from Dispatch
	inFlight int              // sent to the producer, outcome not back yet
	// Taken from in or results and not handled when Close came: drain's.
	leftToSend, leftToSettle []*write

	retries    []*write // failed writes waiting for retryC
	retryTimer *time.Timer
	retryC     <-chan time.Time
	backoff    *backoff.Backoff

	unsent  *write             // the write send was handing over when Close came
	stop    chan time.Duration // Close sends the drain bound
	stopped chan struct{}
}

func (w *aloPartition) Deliver(f *Finished) {
	w.in.put(&write{f: f, results: w.results})
}

func (w *aloPartition) Close(drain time.Duration) {
	w.stop <- drain
	<-w.stopped
}

func (w *aloPartition) run() {
	defer close(w.stopped)
	w.retryTimer = time.NewTimer(time.Hour)
	w.retryTimer.Stop()
	defer w.retryTimer.Stop()
	for {
		// While a failed write waits for its retry, new ones wait too: they would only
		// pile up behind a failing broker.
		in := w.in.ready
		if len(w.retries) > 0 {
			in = nil
		}
		select {
		case <-in:
			if !w.startAll(w.in.take()) {
				return
			}
		case <-w.results.ready:
			if !w.settleAll(w.results.take()) {
				return
			}
		case <-w.retryC:
			w.retryC = nil
			batch := w.retries
			w.retries = nil
			for _, x := range batch {
				if !w.send(x) {
					return
				}
			}
		case drain := <-w.stop:
			w.drain(drain)
			return
		}
	}
}

// startAll starts the writes of what the claim handed over; false means the partition
// stopped, and what was not started is left to drain.
func (w *aloPartition) startAll(batch []*write) bool {
	for i, x := range batch {
		if x.f.Output == nil { // nothing to write
			w.p.Done(x.f, nil)
			continue
		}
		if !w.start(x) {
			w.leftToSend = append(w.leftToSend, batch[i+1:]...)
			return false
		}
	}
	return true
}

// settleAll settles the outcomes of a batch of writes; false means the partition
// stopped, and what was not settled is left to drain.
func (w *aloPartition) settleAll(batch []*write) bool {
	for i, x := range batch {
		if !w.settle(x) {
			w.leftToSettle = append(w.leftToSettle, batch[i+1:]...)
			return false
		}
	}
	return true
}

// start sends x's first attempt under a producer span.
func (w *aloPartition) start(x *write) bool {
	x.sendCtx, x.sendSpan = w.d.cfg.Tracing.StartSend(x.f.Ctx, x.f.Output.Topic)
	w.d.cfg.Tracing.Inject(x.sendCtx, x.f.Output)
	return w.send(x)
}

// send hands one attempt of x's write to the producer: a fresh copy of the message,
// since sarama keeps per-send state in the message it was given. A producer that takes
// nothing (stuck behind a broker) must not block Close, so it watches stop too; false
// means the partition stopped.
func (w *aloPartition) send(x *write) bool {
	msg := w.attempt(x)
	select {
	case w.d.producer.Input() <- msg:
		w.inFlight++
		return true
	case drain := <-w.stop:
		w.d.cfg.Metrics.WritesInFlight.Dec()
		x.attempts--
		w.unsent = x
		w.drain(drain)
		return false
	}
}

// attempt counts one more attempt of x and returns the message to send: the first
// attempt sends x's output itself (no copy per record); a retry sends a fresh message
// with the output's content, as sarama keeps per-send state in the message it was
// given and may still hold the one that failed.
func (w *aloPartition) attempt(x *write) *sarama.ProducerMessage {
	msg := x.f.Output
	if x.attempts > 0 {
		msg = &sarama.ProducerMessage{Topic: msg.Topic, Key: msg.Key, Value: msg.Value, Headers: msg.Headers, Timestamp: msg.Timestamp}
	}
	msg.Metadata = x
	x.attempts++
	w.d.cfg.Metrics.WritesInFlight.Inc()
	return msg
}

// settle handles the outcome of one write; false means the partition stopped.
func (w *aloPartition) settle(x *write) bool {
	w.inFlight--
	w.d.cfg.Metrics.WritesInFlight.Dec()
	f := x.f
	switch {
	case x.err == nil:
		w.backoff.Reset()
		w.acknowledged(x)
	case !f.DeadLetter() && (deadletter.TooLarge(x.err) || (f.ReplyTo && unwritable(x.err))):
		// Retrying would fail forever and hold the partition: the request goes to the
		// dead-letter topic with the refusal as its reason.
		f.Reason = deadletter.New(deadletter.ReasonReplyUnwritable,
			fmt.Errorf("reply to topic %q refused: %w", f.Output.Topic, x.err))
		w.log.Error("the broker refuses the reply for good; sending the request to the dead-letter topic",
			w.fields(x, logging.Status(messages.StatusFailed), zap.Error(x.err), zap.String("dlq_topic", f.DeadLetterTopic))...)
		w.restart(x, deadletter.Message(f.DeadLetterTopic, f.Record, f.Reason))
		return w.send(x)
	case f.DeadLetter() && deadletter.TooLarge(x.err):
		if x.stripped {
			w.log.Error("dead letter refused even stripped; skipping the record",
				w.fields(x, logging.Status(messages.StatusFailed), zap.Error(x.err), zap.NamedError("reason", f.Reason))...)
			tracing.End(x.sendSpan, x.err)
			w.p.Done(f, x.err)
			return true
		}
		w.log.Error("dead letter too large; sending it without the record's key, value and headers",
			w.fields(x, logging.Status(messages.StatusFailed),
				zap.Int("key_bytes", len(f.Record.Key)), zap.Int("value_bytes", len(f.Record.Value)), zap.Error(x.err))...)
		x.stripped = true
		w.restart(x, deadletter.Stripped(f.DeadLetterTopic, f.Record, f.Reason, f.CorrelationID))
		return w.send(x)
	default:
		w.scheduleRetry(x)
	}
	return true
}

// restart replaces x's output with out under a new producer span.
func (w *aloPartition) restart(x *write, out *sarama.ProducerMessage) {
	tracing.End(x.sendSpan, x.err)
	x.f.Output = out
	x.sendCtx, x.sendSpan = w.d.cfg.Tracing.StartSend(x.f.Ctx, out.Topic)
	w.d.cfg.Tracing.Inject(x.sendCtx, out)
}

// acknowledged finishes x: its write is durable.
func (w *aloPartition) acknowledged(x *write) {
	if x.sent != nil {
		tracing.Sent(x.sendSpan, x.sent.Partition, x.sent.Offset)
	}
	tracing.End(x.sendSpan, nil)
	if x.f.DeadLetter() {
		w.log.Info("published dead letter", w.fields(x, logging.Status(messages.StatusFailed))...)
	} else if line := w.log.Check(zap.DebugLevel, "published reply"); line != nil {
		line.Write(w.fields(x, logging.Status(messages.StatusCompleted))...)
	}
	w.p.Done(x.f, nil)
}

// scheduleRetry queues x's failed write for another attempt after a backoff. Its
// record stays unfinished, which holds its offset and every later one unmarked.
func (w *aloPartition) scheduleRetry(x *write) {
	w.retries = append(w.retries, x)
	w.d.cfg.Metrics.PublishRetries.WithLabelValues(x.f.Output.Topic).Inc()
	x.sendSpan.RecordError(x.err)
	fields := w.fields(x, zap.Int("attempt", x.attempts), zap.Error(x.err))
	if w.retryC != nil {
		// One warning per retry round: behind a failing broker every write in flight
		// fails, thousands a second; the others are at debug.
		if line := w.log.Check(zap.DebugLevel, "publish failed; will retry"); line != nil {
			line.Write(fields...)
		}
		return
	}
	w.retryTimer.Reset(w.backoff.Next())
	w.retryC = w.retryTimer.C
	w.log.Warn("publish failed; will retry", fields...)
}

// drain sends what the claim handed over and was not sent yet, then waits, for at most
// timeout in all, for the outcomes of the writes sent and reports what they finish.
// Failed writes are not retried: the partition may belong to another member by now, and
// what is not Done is redelivered.
func (w *aloPartition) drain(timeout time.Duration) {
	// Behind a failing broker (a retry waits) what is not sent yet stays unsent.
	expired := len(w.retries) > 0
	for _, x := range w.retries {
		tracing.End(x.sendSpan, x.err)
	}
	w.retries = nil
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	flush := func(x *write) {
		select {
		case w.d.producer.Input() <- w.attempt(x):
			w.inFlight++
		case <-deadline.C:
			w.d.cfg.Metrics.WritesInFlight.Dec()
			tracing.End(x.sendSpan, context.DeadlineExceeded)
			expired = true
		}
	}
	if w.unsent != nil {
		if expired {
			tracing.End(w.unsent.sendSpan, context.Canceled)
		} else {
			flush(w.unsent)
		}
	}
	for _, x := range append(w.leftToSend, w.in.take()...) {
		if expired {
			break
		}
		if x.f.Output == nil {
			w.p.Done(x.f, nil)
			continue
		}
		x.sendCtx, x.sendSpan = w.d.cfg.Tracing.StartSend(x.f.Ctx, x.f.Output.Topic)
		w.d.cfg.Tracing.Inject(x.sendCtx, x.f.Output)
		flush(x)
	}
	settle := func(x *write) {
		w.inFlight--
		w.d.cfg.Metrics.WritesInFlight.Dec()
		if x.err != nil {
			w.log.Warn("publish failed as the claim ended; the record will be redelivered", w.fields(x, zap.Error(x.err))...)
			tracing.End(x.sendSpan, x.err)
			return
		}
		w.acknowledged(x)
	}
	for _, x := range w.leftToSettle {
		settle(x)
	}
	for w.inFlight > 0 && !expired {
		select {
		case <-w.results.ready:
			for _, x := range w.results.take() {
				settle(x)
			}
		case <-deadline.C:
			expired = true
		}
	}
	if expired && w.inFlight > 0 {
		w.log.Warn("stopped waiting for acknowledgements; unmarked records will be redelivered",
			logging.Topic(w.p.Topic), zap.Int32("partition", w.p.Partition),
			zap.Int("in_flight", w.inFlight), zap.Duration("waited", timeout))
		// Their outcomes will reach nobody: they are no longer this worker's.
		w.d.cfg.Metrics.WritesInFlight.Sub(float64(w.inFlight))
	}
}

// fields describe x's write: where it went and which record it answers.
func (w *aloPartition) fields(x *write, extra ...zap.Field) []zap.Field {
	fields := []zap.Field{
		logging.CorrelationID(x.f.CorrelationID),
		tracing.LogFields(x.sendCtx),
		zap.String("route", x.f.Route),
		logging.Topic(x.f.Output.Topic),
		logging.Operation(logging.OperationPublish),
	}
	if x.err == nil && x.sent != nil {
		fields = append(fields, zap.Int32("partition", x.sent.Partition), zap.Int64("offset", x.sent.Offset))
	}
	fields = append(fields, zap.Int32("source_partition", x.f.Record.Partition), zap.Int64("source_offset", x.f.Record.Offset))
	return append(fields, extra...)
}

// unwritable reports whether a producer error means the topic itself refuses the
// worker: it does not exist (and is not created on demand), is invalid, or the worker
// may not write to it.
func unwritable(err error) bool {
	return errors.Is(err, sarama.ErrUnknownTopicOrPartition) || errors.Is(err, sarama.ErrInvalidTopic) ||
		errors.Is(err, sarama.ErrTopicAuthorizationFailed)
}
