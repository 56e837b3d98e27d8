package tracing

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LogFields adds trace_id and span_id to a log line when ctx carries a span context,
// and nothing otherwise, so log lines and traces can be joined.
func LogFields(ctx context.Context) zap.Field {
	return zap.Inline(spanContext(trace.SpanContextFromContext(ctx)))
}

type spanContext trace.SpanContext

func (sc spanContext) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	c := trace.SpanContext(sc)
	if c.IsValid() {
		enc.AddString("trace_id", c.TraceID().String())
		enc.AddString("span_id", c.SpanID().String())
	}
	return nil
}
