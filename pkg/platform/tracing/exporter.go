package tracing

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// exporter is otlptrace.Exporter with the spans written by encoder instead of the
// exporter's message tree: the OTLP client (otlptracehttp or otlptracegrpc, which read
// the OTEL_EXPORTER_OTLP_* variables and do the sending, retries, compression and TLS)
// gets ResourceSpans messages whose content is already encoded, as unknown fields,
// which protobuf marshals back out unchanged.
type exporter struct {
	client otlptrace.Client

	mu      sync.Mutex // the encoder's buffers; the SDK exports one batch at a time anyway
	enc     encoder
	stopped bool
}

var _ sdktrace.SpanExporter = (*exporter)(nil)

// startExporter starts client (a gRPC client dials here) and exports through it.
func startExporter(ctx context.Context, client otlptrace.Client) (*exporter, error) {
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("traces exporter: %w", err)
	}
	return &exporter{client: client}, nil
}

// ExportSpans sends spans in one request.
func (e *exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil
	}
	encoded := e.enc.encode(spans)
	if len(encoded) == 0 {
		return nil
	}
	msgs := make([]*tracepb.ResourceSpans, len(encoded))
	for i, raw := range encoded {
		msgs[i] = &tracepb.ResourceSpans{}
		msgs[i].ProtoReflect().SetUnknown(raw)
	}
	if err := e.client.UploadTraces(ctx, msgs); err != nil {
		return fmt.Errorf("traces export: %w", err)
	}
	return nil
}

// Shutdown stops the client; exports after it do nothing.
func (e *exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil
	}
	e.stopped = true
	if err := e.client.Stop(ctx); err != nil {
		return fmt.Errorf("traces exporter: %w", err)
	}
	return nil
}
