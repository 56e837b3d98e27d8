package tracing

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// capture is an OTLP client that keeps the requests it would send, as the receiver
// reads them (marshalled and parsed again).
type capture struct {
	mu  sync.Mutex
	got []*coltracepb.ExportTraceServiceRequest
}

func (*capture) Start(context.Context) error { return nil }
func (*capture) Stop(context.Context) error  { return nil }
func (c *capture) UploadTraces(_ context.Context, rs []*tracepb.ResourceSpans) error {
	wire, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: rs})
	if err != nil {
		return err
	}
	req := &coltracepb.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(wire, req); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, req)
	return nil
}

// spanCounts are the number of spans in each request received.
func (c *capture) spanCounts() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var counts []int
	for _, req := range c.got {
		n := 0
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				n += len(ss.GetSpans())
			}
		}
		counts = append(counts, n)
	}
	return counts
}

// The recorder exports what the SDK and its OTLP exporter export for the same calls:
// every kind of attribute value, keys set twice, the span limits, events, errors,
// links, status changes, names, trace state, remote and local parents, new roots,
// several scopes, an unsampled parent, and calls after End.
func TestRecorderExportsWhatTheSDKExports(t *testing.T) {
	res := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "gateway"), attribute.Int("n", 3))
	sampler := sdktrace.ParentBased(sdktrace.AlwaysSample())

	spans := tracetest.NewInMemoryExporter()
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans), sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler), sdktrace.WithIDGenerator(&countingIDs{}))
	recordSpanScenario(t, sdk)
	upstream := &capture{}
	if err := otlptrace.NewUnstarted(upstream).ExportSpans(context.Background(), spans.GetSpans().Snapshots()); err != nil {
		t.Fatal(err)
	}

	ours := &capture{}
	r := newRecorder(sampler, &countingIDs{}, startBatcher(ours, res, defaultBatchSettings, func(err error) { t.Error(err) }))
	recordSpanScenario(t, r)
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(upstream.got) != 1 || len(ours.got) != 1 {
		t.Fatalf("%d requests from the SDK, %d from the recorder; want one each", len(upstream.got), len(ours.got))
	}
	want, got := normalized(upstream.got[0]), normalized(ours.got[0])
	if !proto.Equal(want, got) {
		t.Fatalf("the recorder's export differs from the SDK's:\nSDK:\n%s\nrecorder:\n%s", prototext.Format(want), prototext.Format(got))
	}
	if n := len(want.GetResourceSpans()[0].GetScopeSpans()); n != 2 {
		t.Errorf("%d scopes, want 2", n)
	}
}

// normalized sorts a request's scopes by name and their spans by ID: the OTLP
// exporter groups them in maps.
func normalized(req *coltracepb.ExportTraceServiceRequest) *coltracepb.ExportTraceServiceRequest {
	for _, rs := range req.GetResourceSpans() {
		slices.SortFunc(rs.ScopeSpans, func(a, b *tracepb.ScopeSpans) int {
			return strings.Compare(a.GetScope().GetName(), b.GetScope().GetName())
		})
		for _, ss := range rs.GetScopeSpans() {
			slices.SortFunc(ss.Spans, func(a, b *tracepb.Span) int { return bytes.Compare(a.GetSpanId(), b.GetSpanId()) })
		}
	}
	return req
}

// countingIDs numbers traces and spans from 1, so two providers given the same calls
// make the same IDs.
type countingIDs struct{ next uint64 }

func (c *countingIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	c.next++
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[8:], c.next)
	return tid, c.NewSpanID(ctx, tid)
}

func (c *countingIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	c.next++
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], c.next)
	return sid
}

func recordSpanScenario(t *testing.T, tp trace.TracerProvider) {
	t.Helper()
	one := tp.Tracer("one", trace.WithInstrumentationVersion("1.0"), trace.WithSchemaURL("https://example/s"),
		trace.WithInstrumentationAttributes(attribute.Bool("b", true)))
	two := tp.Tracer("two")
	ts, err := trace.ParseTraceState("vendor=value,other=x")
	if err != nil {
		t.Fatal(err)
	}
	tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	remote := func(span byte, flags trace.TraceFlags) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{span},
			TraceFlags: flags, TraceState: ts, Remote: true})
	}
	at := func(us int) time.Time {
		return time.Unix(1700000000, 123456789).Add(time.Duration(us) * time.Microsecond)
	}
	all := []attribute.KeyValue{
		attribute.String("s", "text"), attribute.String("empty", ""), attribute.Bool("t", true), attribute.Bool("f", false),
		attribute.Int64("i", -42), attribute.Int64("zero", 0), attribute.Float64("d", 2.5),
		attribute.BoolSlice("bs", []bool{true, false}), attribute.Int64Slice("is", []int64{1, -2}),
		attribute.Float64Slice("ds", []float64{0.5}), attribute.StringSlice("ss", []string{"a", ""}),
		attribute.ByteSlice("bytes", []byte{0, 1, 2}),
		attribute.Slice("mixed", attribute.StringValue("x"), attribute.IntValue(7)),
		attribute.Map("m", attribute.String("k", "v"), attribute.Int("j", 1)),
		{Key: "none"},
	}

	ctx := trace.ContextWithRemoteSpanContext(context.Background(), remote(9, trace.FlagsSampled))
	ctx, server := one.Start(ctx, "GET /v1/ping", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(0)),
		trace.WithAttributes(all...), trace.WithLinks(trace.Link{SpanContext: remote(7, 0), Attributes: all[4:6]}))
	server.SetAttributes(attribute.String("s", "again"), attribute.Int("late", 1))
	server.AddEvent("handler failed", trace.WithTimestamp(at(1)), trace.WithAttributes(all[0], all[2], attribute.String("s", "last")))
	server.RecordError(errors.New("boom"), trace.WithTimestamp(at(2)))
	server.AddLink(trace.Link{SpanContext: remote(8, trace.FlagsSampled)})
	server.AddLink(trace.Link{}) // nothing to link: ignored
	server.SetStatus(codes.Error, "boom")
	server.SetStatus(codes.Unset, "ignored")

	_, send := two.Start(ctx, "send in-topic", trace.WithSpanKind(trace.SpanKindProducer), trace.WithTimestamp(at(3)))
	send.SetStatus(codes.Ok, "")
	send.SetStatus(codes.Error, "too late")
	send.SetName("send out-topic")
	send.End(trace.WithTimestamp(at(4)))
	send.SetAttributes(attribute.Int("after end", 1))
	send.AddEvent("after end")

	_, root := one.Start(ctx, "process in-topic", trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindConsumer), trace.WithTimestamp(at(5)))
	for i := range 130 { // over the limits of 128 attributes and 128 events
		root.SetAttributes(attribute.Int("n"+strconv.Itoa(i), i))
		root.AddEvent("e"+strconv.Itoa(i), trace.WithTimestamp(at(6)))
	}
	root.End(trace.WithTimestamp(at(7)))

	_, odd := one.Start(ctx, "odd kind", trace.WithSpanKind(trace.SpanKind(42)), trace.WithTimestamp(at(8)))
	odd.End(trace.WithTimestamp(at(8)))

	unsampled := trace.ContextWithRemoteSpanContext(context.Background(), remote(6, 0))
	_, dropped := one.Start(unsampled, "unsampled")
	if dropped.IsRecording() || dropped.SpanContext().IsSampled() || dropped.SpanContext().TraceID() != tid {
		t.Errorf("a child of an unsampled parent: recording %v, sampled %v, trace %s", dropped.IsRecording(), dropped.SpanContext().IsSampled(), dropped.SpanContext().TraceID())
	}
	dropped.End()

	server.End(trace.WithTimestamp(at(9)))
	server.End(trace.WithTimestamp(at(10))) // a second End changes nothing
}
