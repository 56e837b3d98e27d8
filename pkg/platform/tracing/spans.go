package tracing

import (
	"context"
	"errors"
	"strconv"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
)

// Spans follow the OpenTelemetry semantic conventions for messaging: a PRODUCER span
// "send <topic>" per record written, whose context goes into the record's headers, and
// a CONSUMER span "process <topic>" per record handled. The worker handles one record
// at a time, so its process span is a child of the context the record carries (the
// conventions allow the parent for single-record processing; a batch would use links),
// which keeps a request, its processing and its reply in one trace.

// StartSend starts the producer span for a record to topic; write its context into the
// record with Inject, and end it with End once the broker acknowledged the record or
// refused it.
func (t *Tracing) StartSend(ctx context.Context, topic string) (context.Context, trace.Span) {
	if !t.enabled {
		return ctx, passThrough(ctx)
	}
	ctx, span := t.tracer.Start(ctx, "send "+topic, trace.WithSpanKind(trace.SpanKindProducer))
	if span.IsRecording() { // attributes cost allocations an unsampled span would waste
		span.SetAttributes(
			semconv.MessagingSystemKafka,
			semconv.MessagingOperationTypeSend,
			semconv.MessagingOperationName("send"),
			semconv.MessagingDestinationName(topic),
		)
	}
	return ctx, span
}

// Inject writes the trace context of ctx (traceparent, tracestate, baggage) into msg's
// headers, replacing any there, and records msg's key and correlation_id header on the
// send span of ctx (messaging.kafka.message.key, messaging.message.conversation_id):
// call it once msg has them.
func (t *Tracing) Inject(ctx context.Context, msg *sarama.ProducerMessage) {
	t.propagator.Inject(ctx, ProducerCarrier{Msg: msg})
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := NewAttributes()
	if key := keyString(msg.Key); key != "" {
		attrs.Add(semconv.MessagingKafkaMessageKey(key))
	}
	for _, h := range msg.Headers {
		if string(h.Key) == messages.HeaderCorrelationID {
			attrs.Add(semconv.MessagingMessageConversationID(logging.Truncate(string(h.Value), logging.MaxFieldBytes)))
			break
		}
	}
	attrs.SetOn(span)
}

// keyString is a record key as a string, without the two copies Encode and a
// conversion make of the string keys the services write.
func keyString(key sarama.Encoder) string {
	switch k := key.(type) {
	case nil:
		return ""
	case sarama.StringEncoder:
		return string(k)
	case *sarama.StringEncoder:
		if k == nil {
			return ""
		}
		return string(*k)
	case *sarama.ByteEncoder:
		if k == nil {
			return ""
		}
		return string(*k)
	}
	b, err := key.Encode()
	if err != nil {
		return ""
	}
	return string(b)
}

// Sent records where the broker stored a record sent under span.
func Sent(span trace.Span, partition int32, offset int64) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(
		semconv.MessagingDestinationPartitionID(strconv.FormatInt(int64(partition), 10)),
		semconv.MessagingKafkaOffset(int(offset)),
	)
}

// StartProcess starts the consumer span for rec, as a child of the trace context in
// its headers (a new trace when it has none), for consumer group group ("": read
// without a group). It carries rec's key and correlation_id header, and extra.
func (t *Tracing) StartProcess(ctx context.Context, rec *sarama.ConsumerMessage, group string, extra ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx = t.propagator.Extract(ctx, ConsumerCarrier{Msg: rec})
	if !t.enabled {
		return ctx, passThrough(ctx)
	}
	ctx, span := t.tracer.Start(ctx, "process "+rec.Topic, trace.WithSpanKind(trace.SpanKindConsumer))
	if span.IsRecording() {
		// One call: the SDK grows the span's attributes once per call.
		attrs := NewAttributes()
		attrs.Add(
			semconv.MessagingSystemKafka,
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process"),
			semconv.MessagingDestinationName(rec.Topic),
			semconv.MessagingDestinationPartitionID(strconv.FormatInt(int64(rec.Partition), 10)),
			semconv.MessagingKafkaOffset(int(rec.Offset)),
		)
		if group != "" {
			attrs.Add(semconv.MessagingConsumerGroupName(group))
		}
		if len(rec.Key) > 0 {
			attrs.Add(semconv.MessagingKafkaMessageKey(string(rec.Key)))
		}
		if id := kafka.Header(rec.Headers, messages.HeaderCorrelationID); id != "" {
			attrs.Add(semconv.MessagingMessageConversationID(logging.Truncate(id, logging.MaxFieldBytes)))
		}
		attrs.Add(extra...)
		attrs.SetOn(span)
	}
	return ctx, span
}

// StartChild starts an INTERNAL span name, a child of the span ctx carries, from the
// tracer provider that started that span: code that gets only a context (middleware, a
// handler) traces a step of the work without the service's Tracing. When that span
// records nothing (tracing off, or not sampled) ok is false and no span is started: a
// child of an unsampled span would not be sampled either.
func StartChild(ctx context.Context, name string, attrs ...attribute.KeyValue) (_ context.Context, _ trace.Span, ok bool) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent, false
	}
	ctx, span := parent.TracerProvider().Tracer(scope).Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	return ctx, span, true
}

// passThrough is the span of a tracer that records nothing: the context ctx carries,
// so that a trace still passes through a service with tracing off. It is what a no-op
// tracer's Start returns, without its allocations, which cost the worker 6 % of its
// CPU per record in a drain (make bench, worker profile).
func passThrough(ctx context.Context) trace.Span {
	return trace.SpanFromContext(ctx)
}

// End ends span, marking it failed when err is not nil, with an error.type of a few
// values: the broker's error code name, "timeout", "canceled", or "_OTHER".
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
	}
	span.End()
}

func errorType(err error) string {
	var kerr sarama.KError
	switch {
	case errors.As(err, &kerr):
		return "kafka." + strconv.Itoa(int(kerr))
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "_OTHER"
	}
}
