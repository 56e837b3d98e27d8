package router

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamgate/streamgate/pkg/messages"
)

// A record's first attempt runs under its process span; each retry is a span "<route>
// handle", a child of the process span, with the route, the attempt and the correlation
// ID, ended with an error status when it fails. The first attempt's failure is an
// exception event on the process span. The handler's ctx carries its attempt's span; the
// reply's send span stays the process span's child.
func TestEachRetryIsAChildSpanOfTheProcessSpan(t *testing.T) {
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
	var retries []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "test handle" {
			retries = append(retries, s)
		}
	}
	if len(retries) != 2 || len(seen) != 3 {
		t.Fatalf("%d handle spans for %d calls, want 2 for the 2 retries of 3 attempts", len(retries), len(seen))
	}
	if seen[0].SpanID() != process.SpanContext().SpanID() {
		t.Errorf("the first attempt's ctx carries span %v, not the process span %v", seen[0].SpanID(), process.SpanContext().SpanID())
	}
	processAttrs := attributes(process)
	if processAttrs["streamgate.route"] != "test" || processAttrs["streamgate.attempt"] != int64(1) ||
		processAttrs["messaging.message.conversation_id"] != "order-7" {
		t.Errorf("process span attributes %v, want the route, attempt 1 and the correlation ID", processAttrs)
	}
	if ev := process.Events(); len(ev) != 1 || ev[0].Name != "exception" || !hasAttr(ev[0].Attributes, "streamgate.attempt", int64(1)) {
		t.Errorf("process span events %+v, want the first attempt's exception", ev)
	}
	if process.Status().Code != codes.Unset {
		t.Errorf("process span status %+v: the record succeeded", process.Status())
	}
	for i, s := range retries {
		attempt := i + 2
		attrs := attributes(s)
		if s.SpanKind() != trace.SpanKindInternal || s.Parent().SpanID() != process.SpanContext().SpanID() ||
			s.SpanContext().TraceID().String() != upstreamTrace {
			t.Errorf("attempt %d: kind %v, parent %v; want an internal child of the process span %v in the record's trace",
				attempt, s.SpanKind(), s.Parent().SpanID(), process.SpanContext().SpanID())
		}
		if attrs["streamgate.route"] != "test" || attrs["streamgate.attempt"] != int64(attempt) ||
			attrs["messaging.message.conversation_id"] != "order-7" {
			t.Errorf("attempt %d: attributes %v", attempt, attrs)
		}
		if s.SpanContext().SpanID() != seen[attempt-1].SpanID() {
			t.Errorf("attempt %d: the handler's ctx carries span %v, not its attempt's %v", attempt, seen[attempt-1].SpanID(), s.SpanContext().SpanID())
		}
		want := codes.Error
		if attempt == 3 {
			want = codes.Unset
		}
		if s.Status().Code != want || (want == codes.Error && s.Status().Description != "stock service unavailable") {
			t.Errorf("attempt %d: status %+v, want %v", attempt, s.Status(), want)
		}
	}
	if send.Parent().SpanID() != process.SpanContext().SpanID() {
		t.Error("the reply's send span is not the process span's child")
	}
}

// A correlation ID found only in the body goes on the process span once the first
// attempt decoded it.
func TestBodyCorrelationIDOnTheProcessSpan(t *testing.T) {
	opts, _, recorder := observed(t)
	h := start(t, opts)
	body, err := messages.EncodeRequest(messages.NewRequest("from-the-body", "Send for in-topic", requestTime))
	if err != nil {
		t.Fatal(err)
	}
	h.feed(record(0, "", body, []sarama.RecordHeader{{Key: []byte("traceparent"), Value: []byte(traceparent)}}))
	h.prod.succeed(h.prod.next(t), 0)
	h.expectMark(1)
	process := spanNamed(t, recorder.Ended(), "process in-topic")
	if got := attributes(process)["messaging.message.conversation_id"]; got != "from-the-body" {
		t.Errorf("process span's conversation ID %v, want the body's", got)
	}
}

func hasAttr(attrs []attribute.KeyValue, key string, want any) bool {
	for _, kv := range attrs {
		if string(kv.Key) == key {
			return kv.Value.AsInterface() == want
		}
	}
	return false
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
