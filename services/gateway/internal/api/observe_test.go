package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// spanPublisher remembers the span context each Send call ran under.
type spanPublisher struct {
	got  []trace.SpanContext
	ctxs []context.Context
}

func (p *spanPublisher) Send(ctx context.Context, _ gatewaykit.Record) error {
	p.got = append(p.got, trace.SpanContextFromContext(ctx))
	p.ctxs = append(p.ctxs, ctx)
	return nil
}

func TestRequestMetricsUseRouteTemplatesAndBoundedLabels(t *testing.T) {
	router, _, readiness, m := newObservedRouter(t, &recordingPublisher{}, tracing.Disabled())
	readiness.Set(nil)
	get(router, "/v1/ping", nil)
	get(router, "/v1/ping", nil)
	get(router, "/no/such/path/1", nil)
	get(router, "/no/such/path/2", nil)
	get(router, "/readyz", nil)
	req, _ := http.NewRequest("BREW", "/v1/ping", nil)
	router.ServeHTTP(httptest.NewRecorder(), req)

	if n := testutil.CollectAndCount(m.HTTPRequests); n != 3 {
		t.Errorf("%d request series, want 3 (one per route, method and code; none for the probe)", n)
	}
	if n := testutil.CollectAndCount(m.HTTPRequestDuration); n != 3 {
		t.Errorf("%d duration series, want 3", n)
	}
	for _, tc := range []struct {
		route, method, code string
		want                float64
	}{
		{"/v1/ping", "GET", "200", 2},
		{"unmatched", "GET", "404", 2},
		{"unmatched", "OTHER", "405", 1},
	} {
		if got := testutil.ToFloat64(m.HTTPRequests.WithLabelValues(tc.route, tc.method, tc.code)); got != tc.want {
			t.Errorf("requests{%s %s %s} = %v, want %v", tc.route, tc.method, tc.code, got, tc.want)
		}
	}
}

func TestServerSpanContinuesIncomingTraceAndReachesPublisher(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	tr := tracing.WithProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
	pub := &spanPublisher{}
	router, logs, readiness, _ := newObservedRouter(t, pub, tr)
	readiness.Set(nil)

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	get(router, "/v1/ping", http.Header{"Traceparent": {parent}, "X-Correlation-Id": {"traced-1"}})
	get(router, "/readyz", nil)

	spans := recorder.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans ended, want 1 (probes are not traced)", len(spans))
	}
	span := spans[0]
	if span.Name() != "GET /v1/ping" || span.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q kind %v, want a server span GET /v1/ping", span.Name(), span.SpanKind())
	}
	if got := span.Parent().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" || !span.Parent().IsRemote() {
		t.Errorf("parent trace %s (remote %v), want the incoming traceparent's", got, span.Parent().IsRemote())
	}
	if len(pub.got) != 1 || pub.got[0].SpanID() != span.SpanContext().SpanID() {
		t.Fatalf("publisher ran under %v, want the server span %v", pub.got, span.SpanContext())
	}
	line := logs.FilterMessage("request").FilterField(zap.String("correlation_id", "traced-1")).All()
	if len(line) != 1 || line[0].ContextMap()["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		line[0].ContextMap()["span_id"] != span.SpanContext().SpanID().String() {
		t.Errorf("access log = %v, want trace_id and span_id of the server span", line)
	}
}

// With tracing off nothing is recorded, but an incoming trace context still reaches
// the publisher, which passes it on in the record.
func TestTracingOffPassesTraceContextThrough(t *testing.T) {
	pub := &spanPublisher{}
	router, _, _, _ := newObservedRouter(t, pub, tracing.Disabled())
	get(router, "/v1/ping", http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})
	get(router, "/v1/ping", nil)
	if len(pub.got) != 2 || pub.got[0].SpanID().String() != "00f067aa0ba902b7" || pub.got[1].IsValid() {
		t.Fatalf("publisher contexts = %v, want the incoming one, then none", pub.got)
	}
}

// The server span carries the correlation ID (messaging.message.conversation_id), the
// scheme, the server address and, on a 5xx, error.type; the client gets the trace ID in
// X-Trace-Id, and the access log line carries the same trace_id.
func TestServerSpanCarriesCorrelationIDAndAnswersTheTraceID(t *testing.T) {
	for _, tt := range []struct {
		name      string
		err       error
		status    int
		errorType string
	}{
		{"published", nil, http.StatusOK, ""},
		{"publish failed", errors.New("kafka: client has run out of available brokers"), http.StatusInternalServerError, "500"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			recorder := tracetest.NewSpanRecorder()
			tr := tracing.WithProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
			router, logs, readiness, _ := newObservedRouter(t, &recordingPublisher{err: tt.err}, tr)
			readiness.Set(nil)
			req := httptest.NewRequest(http.MethodGet, "http://gateway.example:8080/v1/ping", nil)
			req.Header.Set("X-Correlation-Id", "corr-42")
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			spans := recorder.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want the server span", len(spans))
			}
			traceID := spans[0].SpanContext().TraceID().String()
			if got := rec.Header().Get("X-Trace-Id"); got != traceID {
				t.Errorf("X-Trace-Id %q, want the server span's trace %s", got, traceID)
			}
			attrs := map[string]string{}
			for _, kv := range spans[0].Attributes() {
				attrs[string(kv.Key)] = kv.Value.Emit()
			}
			for k, want := range map[string]string{
				"messaging.message.conversation_id": "corr-42", "url.scheme": "http",
				"server.address": "gateway.example", "server.port": "8080", "error.type": tt.errorType,
			} {
				if attrs[k] != want {
					t.Errorf("%s = %q, want %q (attributes %v)", k, attrs[k], want, attrs)
				}
			}
			line := logs.FilterMessage("request").FilterField(zap.String("correlation_id", "corr-42")).All()
			if len(line) != 1 || line[0].ContextMap()["trace_id"] != traceID {
				t.Errorf("access log %v, want trace_id %s", line, traceID)
			}
		})
	}
}
