package router

import (
	"errors"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

const (
	upstreamTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	upstreamSpan  = "00f067aa0ba902b7"
	traceparent   = "00-" + upstreamTrace + "-" + upstreamSpan + "-01"
)

func observed(t *testing.T) (Config, *Metrics, *tracetest.SpanRecorder) {
	t.Helper()
	m, err := NewMetrics("worker", "test")
	if err != nil {
		t.Fatal(err)
	}
	recorder := tracetest.NewSpanRecorder()
	tr := tracing.WithProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
	return Config{Metrics: m, Tracing: tr, GroupID: "group-1"}, m, recorder
}

func tracedRequest(t *testing.T, offset int64, id string) *sarama.ConsumerMessage {
	rec := request(t, offset, id)
	rec.Headers = append(rec.Headers,
		&sarama.RecordHeader{Key: []byte("traceparent"), Value: []byte(traceparent)},
		&sarama.RecordHeader{Key: []byte("tracestate"), Value: []byte("congo=t61rcWkgMzE")},
		&sarama.RecordHeader{Key: []byte("baggage"), Value: []byte("tenant=acme")},
	)
	return rec
}

func spanNamed(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.Name() == name {
			return s
		}
	}
	t.Fatalf("no span %q among %d", name, len(spans))
	return nil
}

func gauge(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	switch name {
	case "committed":
		return testutil.ToFloat64(m.CommittedOffset.WithLabelValues("in-topic", "0"))
	case "lag":
		return testutil.ToFloat64(m.ConsumerLag.WithLabelValues("in-topic", "0"))
	case "stuck":
		return testutil.ToFloat64(m.PartitionStuck.WithLabelValues("in-topic", "0"))
	}
	t.Fatalf("unknown gauge %s", name)
	return 0
}

// A reply continues the record's trace: a process span whose parent is the record's
// context and a send span under it, whose context the reply carries. The partition's
// series are counted, and deleted when the claim ends.
func TestReplyContinuesTraceAndIsCounted(t *testing.T) {
	opts, m, recorder := observed(t)
	h := start(t, opts)
	h.claim.hwm.Store(1)
	h.feed(tracedRequest(t, 0, "id-0"))
	out := h.prod.next(t)
	if got := testutil.ToFloat64(m.WritesInFlight); got != 1 {
		t.Errorf("writes in flight = %v, want 1", got)
	}
	h.prod.succeed(out, 7)
	h.expectMark(1)

	spans := recorder.Ended()
	process, send := spanNamed(t, spans, "process in-topic"), spanNamed(t, spans, "send out-topic")
	if process.SpanKind() != trace.SpanKindConsumer || send.SpanKind() != trace.SpanKindProducer {
		t.Errorf("kinds %v/%v, want consumer/producer", process.SpanKind(), send.SpanKind())
	}
	if process.Parent().TraceID().String() != upstreamTrace || process.Parent().SpanID().String() != upstreamSpan {
		t.Errorf("process span's parent = %v, want the record's traceparent", process.Parent())
	}
	if send.Parent().SpanID() != process.SpanContext().SpanID() {
		t.Error("send span is not a child of the process span")
	}
	want := "00-" + upstreamTrace + "-" + send.SpanContext().SpanID().String() + "-01"
	if got := producerHeader(out, "traceparent"); got != want {
		t.Errorf("reply traceparent = %q, want %q", got, want)
	}
	if got := producerHeader(out, "tracestate"); got != "congo=t61rcWkgMzE" {
		t.Errorf("reply tracestate = %q, want the record's", got)
	}
	if got := producerHeader(out, "baggage"); got != "tenant=acme" {
		t.Errorf("reply baggage = %q, want the record's", got)
	}
	if got := producerHeader(out, "correlation_id"); got != "id-0" {
		t.Errorf("reply lost its correlation_id header: %q", got)
	}

	for name, got := range map[string]float64{
		"received":  testutil.ToFloat64(m.RecordsReceived.WithLabelValues("in-topic", "ping")),
		"replies":   testutil.ToFloat64(m.RepliesPublished.WithLabelValues("out-topic", "ping")),
		"in flight": testutil.ToFloat64(m.WritesInFlight),
		"committed": gauge(t, m, "committed"),
		"lag (1-1)": gauge(t, m, "lag"),
		"stuck":     gauge(t, m, "stuck"),
	} {
		want := map[string]float64{"received": 1, "replies": 1, "committed": 1}[name]
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	line := h.logs.FilterMessage("published reply").All()
	if len(line) != 1 || line[0].ContextMap()["trace_id"] != upstreamTrace {
		t.Errorf("reply log line lacks the trace_id: %v", line)
	}

	h.endSession()
	if n := testutil.CollectAndCount(m.CommittedOffset) + testutil.CollectAndCount(m.ConsumerLag) +
		testutil.CollectAndCount(m.OldestUnfinishedAge) + testutil.CollectAndCount(m.PartitionStuck); n != 0 {
		t.Errorf("%d partition series left after the claim ended, want 0", n)
	}
}

// A dead letter is counted by reason and carries the worker's trace context in place of
// the record's, in the same trace.
func TestDeadLetterCountedByReasonAndTraced(t *testing.T) {
	opts, m, recorder := observed(t)
	h := start(t, opts)
	h.feed(record(0, "k", []byte("not json {"), []sarama.RecordHeader{
		{Key: []byte("traceparent"), Value: []byte(traceparent)},
	}))
	out := h.prod.next(t)
	h.prod.succeed(out, 0)
	h.expectMark(1)

	if got := testutil.ToFloat64(m.DeadLetters.WithLabelValues("invalid_json", "ping")); got != 1 {
		t.Errorf("dead letters{invalid_json} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.DeadLetters.WithLabelValues("invalid_message", "ping")); got != 0 {
		t.Errorf("dead letters{invalid_message} = %v, want 0", got)
	}
	send := spanNamed(t, recorder.Ended(), "send in-topic.dlq")
	n := 0
	for _, hd := range out.Headers {
		if string(hd.Key) == "traceparent" {
			n++
		}
	}
	want := "00-" + upstreamTrace + "-" + send.SpanContext().SpanID().String() + "-01"
	if got := producerHeader(out, "traceparent"); n != 1 || got != want {
		t.Errorf("dead letter has %d traceparent headers, %q; want one, %q", n, got, want)
	}
}

// A partition whose oldest record waits longer than the threshold turns stuck (gauge
// and one warning), and clears (gauge and one info line) once the write goes through.
func TestStuckPartitionRaisedOnceAndCleared(t *testing.T) {
	opts, m, _ := observed(t)
	opts.StuckThreshold, opts.ObserveInterval = 100*time.Millisecond, 10*time.Millisecond
	h := start(t, opts)
	h.feed(request(t, 0, "id-0"))
	refused := errors.New("kafka server: the request included a message larger than the max message size the server will accept")
	deadline := time.Now().Add(waitTimeout)
	var last *sarama.ProducerMessage
	for gauge(t, m, "stuck") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("partition never turned stuck")
		}
		last = h.prod.next(t)
		h.prod.fail(last, refused)
	}
	if got := testutil.ToFloat64(m.PublishRetries.WithLabelValues("out-topic")); got < 1 {
		t.Errorf("publish retries = %v, want at least 1", got)
	}
	time.Sleep(50 * time.Millisecond) // more observations while still stuck
	warnings := h.logs.FilterMessageSnippet("partition stuck").All()
	if len(warnings) != 1 {
		t.Fatalf("stuck warnings = %v, want one", warnings)
	}
	h.prod.succeed(h.prod.next(t), 3)
	h.expectMark(1)
	if got := gauge(t, m, "stuck"); got != 0 {
		t.Errorf("stuck = %v after the write went through", got)
	}
	if n := h.logs.FilterMessage("partition no longer stuck").Len(); n != 1 {
		t.Errorf("%d lines saying the partition recovered, want 1", n)
	}
}

func TestSessionMetrics(t *testing.T) {
	opts, m, _ := observed(t)
	r := New(opts)
	if err := pingRoute(r); err != nil {
		t.Fatal(err)
	}
	handler, err := r.Handler(r.AtLeastOnce(newFakeProducer()))
	if err != nil {
		t.Fatal(err)
	}
	sess := newFakeSession(t.Context())
	for range 2 {
		if err := handler.Setup(sess); err != nil {
			t.Fatal(err)
		}
		if testutil.ToFloat64(m.SessionActive) != 1 || testutil.ToFloat64(m.Registry.KafkaConnected) != 1 {
			t.Error("session_active and kafka_connected not 1 in a session")
		}
		if err := handler.Cleanup(sess); err != nil {
			t.Fatal(err)
		}
	}
	if testutil.ToFloat64(m.SessionActive) != 0 || testutil.ToFloat64(m.Rebalances) != 2 {
		t.Errorf("after two sessions: active %v, rebalances %v; want 0, 2",
			testutil.ToFloat64(m.SessionActive), testutil.ToFloat64(m.Rebalances))
	}
}

func producerHeader(m *sarama.ProducerMessage, key string) string {
	for _, h := range m.Headers {
		if string(h.Key) == key {
			return string(h.Value)
		}
	}
	return ""
}
