package tracing

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// capture is an OTLP client that keeps the request it would send, as the receiver
// reads it (marshalled and parsed again).
type capture struct {
	got *coltracepb.ExportTraceServiceRequest
}

func (*capture) Start(context.Context) error { return nil }
func (*capture) Stop(context.Context) error  { return nil }
func (c *capture) UploadTraces(_ context.Context, rs []*tracepb.ResourceSpans) error {
	wire, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: rs})
	if err != nil {
		return err
	}
	c.got = &coltracepb.ExportTraceServiceRequest{}
	return proto.Unmarshal(wire, c.got)
}

// The encoder writes what the OTLP exporter's own message tree marshals to, for every
// kind of attribute value, events, links, status, trace state, remote and local
// parents, several scopes and resources.
func TestEncoderMatchesOTLPExporter(t *testing.T) {
	spans := encoderTestSpans(t)
	upstream, ours := &capture{}, &capture{}
	if err := otlptrace.NewUnstarted(upstream).ExportSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	exp, err := startExporter(context.Background(), ours)
	if err != nil {
		t.Fatal(err)
	}
	// Twice: the second export reuses the encoder's buffers.
	for range 2 {
		if err := exp.ExportSpans(context.Background(), spans); err != nil {
			t.Fatal(err)
		}
		if diff := cmpRequests(upstream.got, ours.got); diff != "" {
			t.Fatalf("encoded spans differ from the OTLP exporter's :\n%s", diff)
		}
	}
	if n := len(ours.got.GetResourceSpans()); n != 2 {
		t.Errorf("%d resources, want 2", n)
	}
}

// cmpRequests compares two requests whatever the order of their resources (the OTLP
// exporter groups them in a map); "" when equal.
func cmpRequests(want, got *coltracepb.ExportTraceServiceRequest) string {
	for _, r := range []*coltracepb.ExportTraceServiceRequest{want, got} {
		slices.SortFunc(r.ResourceSpans, func(a, b *tracepb.ResourceSpans) int {
			return strings.Compare(a.GetSchemaUrl(), b.GetSchemaUrl())
		})
	}
	if proto.Equal(want, got) {
		return ""
	}
	return "exporter:\n" + prototext.Format(want) + "\nencoder:\n" + prototext.Format(got)
}

func encoderTestSpans(t *testing.T) []sdktrace.ReadOnlySpan {
	t.Helper()
	resA := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "gateway"), attribute.Int("n", 3))
	resB := resource.NewSchemaless(attribute.String("service.name", "worker"))
	scope1 := instrumentation.Scope{Name: "one", Version: "1.0", SchemaURL: "https://example/s",
		Attributes: attribute.NewSet(attribute.Bool("b", true))}
	scope2 := instrumentation.Scope{Name: "two"}
	tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	ts, err := trace.ParseTraceState("vendor=value,other=x")
	if err != nil {
		t.Fatal(err)
	}
	sc := func(span byte, remote bool) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{span},
			TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: remote})
	}
	start := time.Unix(1700000000, 123456789)
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
	stubs := tracetest.SpanStubs{
		{Name: "GET /v1/ping", SpanContext: sc(1, false), Parent: sc(9, true), SpanKind: trace.SpanKindServer,
			StartTime: start, EndTime: start.Add(time.Millisecond), Attributes: all,
			Events: []sdktrace.Event{{Name: "handler failed", Time: start.Add(time.Microsecond), Attributes: all[:3], DroppedAttributeCount: 2}},
			Links:  []sdktrace.Link{{SpanContext: sc(7, true), Attributes: all[4:6], DroppedAttributeCount: 1}},
			Status: sdktrace.Status{Code: codes.Error, Description: "boom"}, DroppedAttributes: 1, DroppedEvents: 2, DroppedLinks: 3,
			Resource: resA, InstrumentationScope: scope1},
		{Name: "send in-topic", SpanContext: sc(2, false), Parent: sc(1, false), SpanKind: trace.SpanKindProducer,
			StartTime: start, EndTime: start, Status: sdktrace.Status{Code: codes.Ok}, Resource: resA, InstrumentationScope: scope2},
		{Name: "process in-topic", SpanContext: sc(3, false), SpanKind: trace.SpanKindConsumer,
			Resource: resB, InstrumentationScope: scope1},
		{Name: "unscoped", SpanContext: sc(4, false), SpanKind: trace.SpanKind(42), Resource: resA},
		{Name: "later in scope one", SpanContext: sc(5, false), SpanKind: trace.SpanKindInternal, Resource: resA, InstrumentationScope: scope1},
	}
	return stubs.Snapshots()
}
