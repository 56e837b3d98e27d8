package router

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Each attempt at a record is a span "<route> handle", a child of the record's process
// span, with the route, the attempt and the correlation ID; failed attempts end with an
// error status. The handler's ctx carries its attempt's span; the reply's send span
// stays the process span's child.
func TestEachAttemptIsAChildSpanOfTheProcessSpan(t *testing.T) {
	opts, _, recorder := observed(t)
	var mu sync.Mutex
	var seen []trace.SpanContext // the span each call's ctx carries
	h := startString(t, opts, func(ctx context.Context, m Message[string]) (string, error) {
		mu.Lock()
		seen = append(seen, trace.SpanContextFromContext(ctx))
		mu.Unlock()
		if m.Attempt < 3 {
			return "", errors.New("stock service unavailable")
		}
		return "done", nil
	}, nil)
	h.feed(record(0, "k", []byte("x"), []sarama.RecordHeader{
		{Key: []byte("traceparent"), Value: []byte(traceparent)},
		{Key: []byte("correlation_id"), Value: []byte("order-7")},
	}))
	h.prod.succeed(h.prod.next(t), 0)
	h.expectMark(1)

	spans := recorder.Ended()
	process, send := spanNamed(t, spans, "process in-topic"), spanNamed(t, spans, "send out-topic")
	var calls []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "test handle" {
			calls = append(calls, s)
		}
	}
	if len(calls) != 3 || len(seen) != 3 {
		t.Fatalf("%d handle spans for %d calls, want 3 for 3 attempts", len(calls), len(seen))
	}
	for i, s := range calls {
		attrs := attributes(s)
		if s.SpanKind() != trace.SpanKindInternal || s.Parent().SpanID() != process.SpanContext().SpanID() ||
			s.SpanContext().TraceID().String() != upstreamTrace {
			t.Errorf("attempt %d: kind %v, parent %v; want an internal child of the process span %v in the record's trace",
				i+1, s.SpanKind(), s.Parent().SpanID(), process.SpanContext().SpanID())
		}
		if attrs["streamgate.route"] != "test" || attrs["streamgate.attempt"] != int64(i+1) ||
			attrs["messaging.message.conversation_id"] != "order-7" {
			t.Errorf("attempt %d: attributes %v", i+1, attrs)
		}
		if s.SpanContext().SpanID() != seen[i].SpanID() {
			t.Errorf("attempt %d: the handler's ctx carries span %v, not its attempt's %v", i+1, seen[i].SpanID(), s.SpanContext().SpanID())
		}
		want := codes.Error
		if i == 2 {
			want = codes.Unset
		}
		if s.Status().Code != want || (want == codes.Error && s.Status().Description != "stock service unavailable") {
			t.Errorf("attempt %d: status %+v, want %v", i+1, s.Status(), want)
		}
	}
	if send.Parent().SpanID() != process.SpanContext().SpanID() {
		t.Error("the reply's send span is not the process span's child")
	}
	if attributes(process)["streamgate.route"] != "test" {
		t.Errorf("process span attributes %v, want the route", attributes(process))
	}
}

// A record whose trace is not sampled gets no spans at all: no handle span under an
// unsampled process span.
func TestUnsampledRecordHasNoHandleSpan(t *testing.T) {
	opts, _, recorder := observed(t)
	h := startString(t, opts, func(context.Context, Message[string]) (string, error) { return "done", nil }, nil)
	h.feed(record(0, "k", []byte("x"), []sarama.RecordHeader{
		{Key: []byte("traceparent"), Value: []byte("00-" + upstreamTrace + "-" + upstreamSpan + "-00")},
	}))
	h.prod.succeed(h.prod.next(t), 0)
	h.expectMark(1)
	if spans := recorder.Ended(); len(spans) != 0 {
		t.Errorf("%d spans of an unsampled record, first %q", len(spans), spans[0].Name())
	}
}

func attributes(s sdktrace.ReadOnlySpan) map[string]any {
	out := map[string]any{}
	for _, kv := range s.Attributes() {
		out[string(kv.Key)] = kv.Value.AsInterface()
	}
	return out
}
