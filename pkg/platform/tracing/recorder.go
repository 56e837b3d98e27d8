package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// recorder is the tracer provider of a service that traces: it records spans itself
// and writes each sampled span, as it ends, into the OTLP batch being built, in place
// of the SDK's TracerProvider and batch span processor. Profiles of both services at
// 100 % sampling (BenchmarkHandleRecordOTLP, BenchmarkGatewayPingOTLP) put the SDK's
// span bookkeeping at about half of what tracing cost, most of it allocation and the
// GC it brings: a snapshot of each ended span, a map to de-duplicate its attributes,
// its attribute slice grown per call, every span held in a queue until its export.
// What is not on that path comes from the SDK as it is: the samplers, the span limits
// (OTEL_SPAN_*), the resource, the ID generator interface, and the OTLP clients.
type recorder struct {
	embedded.TracerProvider

	sampler sdktrace.Sampler
	ids     sdktrace.IDGenerator
	limits  sdktrace.SpanLimits
	batches *batcher

	mu      sync.Mutex
	tracers map[tracerKey]*tracer
}

type tracerKey struct {
	name, version, schemaURL string
	attrs                    attribute.Distinct
}

func newRecorder(sampler sdktrace.Sampler, ids sdktrace.IDGenerator, batches *batcher) *recorder {
	return &recorder{
		sampler: sampler,
		ids:     ids,
		limits:  sdktrace.NewSpanLimits(),
		batches: batches,
		tracers: map[tracerKey]*tracer{},
	}
}

// Tracer returns the tracer of the instrumentation scope name and opts, the same one
// for the same scope.
func (r *recorder) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	cfg := trace.NewTracerConfig(opts...)
	attrs := cfg.InstrumentationAttributes()
	key := tracerKey{name: name, version: cfg.InstrumentationVersion(), schemaURL: cfg.SchemaURL(), attrs: attrs.Equivalent()}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.tracers[key]; ok {
		return t
	}
	t := &tracer{recorder: r, scope: instrumentation.Scope{
		Name: name, Version: key.version, SchemaURL: key.schemaURL, Attributes: attrs,
	}}
	t.encodedScope = appendScope(nil, t.scope)
	r.tracers[key] = t
	return t
}

// ForceFlush exports every span ended so far, within ctx.
func (r *recorder) ForceFlush(ctx context.Context) error { return r.batches.forceFlush(ctx) }

// Shutdown exports every span ended so far, within ctx, and stops exporting.
func (r *recorder) Shutdown(ctx context.Context) error { return r.batches.shutdown(ctx) }

type tracer struct {
	embedded.Tracer

	recorder     *recorder
	scope        instrumentation.Scope
	encodedScope []byte // the ScopeSpans.scope field, written once per batch
}

// Start starts a span as the SDK's tracer does: a child of the span context in ctx
// unless opts ask for a new root, sampled as the sampler decides.
func (t *tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	cfg := trace.NewSpanStartConfig(opts...)
	var parent trace.SpanContext
	if cfg.NewRoot() {
		ctx = trace.ContextWithSpanContext(ctx, parent)
	} else {
		parent = trace.SpanContextFromContext(ctx)
	}
	var tid trace.TraceID
	var sid trace.SpanID
	if parent.TraceID().IsValid() {
		tid = parent.TraceID()
		sid = t.recorder.ids.NewSpanID(ctx, tid)
	} else {
		tid, sid = t.recorder.ids.NewIDs(ctx)
	}
	decision := t.recorder.sampler.ShouldSample(sdktrace.SamplingParameters{
		ParentContext: ctx, TraceID: tid, Name: name, Kind: cfg.SpanKind(),
		Attributes: cfg.Attributes(), Links: cfg.Links(),
	})
	flags := parent.TraceFlags() &^ trace.FlagsSampled
	if decision.Decision == sdktrace.RecordAndSample {
		flags |= trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, TraceState: decision.Tracestate})
	if decision.Decision == sdktrace.Drop {
		s := &nonRecording{sc: sc, recorder: t.recorder}
		return trace.ContextWithSpan(ctx, s), s
	}
	s := newSpan(t, name, parent, sc, cfg)
	for _, l := range cfg.Links() {
		s.AddLink(l)
	}
	s.SetAttributes(decision.Attributes...)
	s.SetAttributes(cfg.Attributes()...)
	return trace.ContextWithSpan(ctx, s), s
}

// nonRecording is a span the sampler dropped: it carries its context to children and
// to the records sent under it, and records nothing.
type nonRecording struct {
	embedded.Span

	sc       trace.SpanContext
	recorder *recorder
}

func (*nonRecording) End(...trace.SpanEndOption)              {}
func (*nonRecording) AddEvent(string, ...trace.EventOption)   {}
func (*nonRecording) AddLink(trace.Link)                      {}
func (*nonRecording) IsRecording() bool                       { return false }
func (*nonRecording) RecordError(error, ...trace.EventOption) {}
func (s *nonRecording) SpanContext() trace.SpanContext        { return s.sc }
func (*nonRecording) SetStatus(codes.Code, string)            {}
func (*nonRecording) SetName(string)                          {}
func (*nonRecording) SetAttributes(...attribute.KeyValue)     {}
func (s *nonRecording) TracerProvider() trace.TracerProvider  { return s.recorder }

// randomIDs draws trace and span IDs from math/rand/v2's generator, which needs no
// lock (the SDK's default generator, not exported, locks a math/rand source).
type randomIDs struct{}

func (randomIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.NativeEndian.PutUint64(tid[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid, randomIDs{}.NewSpanID(ctx, tid)
}

func (randomIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.NativeEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}
