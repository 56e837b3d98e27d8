package middleware

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// A client's trace context, as a W3C traceparent.
const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientParent = "00f067aa0ba902b7"
	traceparent  = "00-" + clientTrace + "-" + clientParent + "-01"
)

func recordingTracing(t *testing.T) (*tracing.Tracing, *tracetest.SpanRecorder) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tr := tracing.WithProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans), sdktrace.WithSampler(sdktrace.AlwaysSample())))
	t.Cleanup(func() { _ = tr.Shutdown(t.Context()) })
	return tr, spans
}

func attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// A server span per request, named by route template, a child of the
// client's trace context, with the handler running inside it; a 5xx marks it
// failed, a 4xx does not.
func TestTracingSpanPerRequest(t *testing.T) {
	tr, spans := recordingTracing(t)
	var inHandler trace.SpanContext
	r := newRouter(Tracing(tr, "/healthz"))
	r.GET("/items/:id", func(c *gin.Context) {
		inHandler = trace.SpanContextFromContext(c.Request.Context())
		c.Status(http.StatusOK)
	})
	r.GET("/fail", func(c *gin.Context) { c.Status(http.StatusBadGateway) })
	r.GET("/healthz", func(c *gin.Context) { c.Status(http.StatusOK) })

	serve(t, r, http.MethodGet, "/items/7", "traceparent", traceparent)
	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans, want 1", len(ended))
	}
	s := ended[0]
	if s.Name() != "GET /items/:id" || s.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q kind %v, want GET /items/:id, server", s.Name(), s.SpanKind())
	}
	if s.SpanContext().TraceID().String() != clientTrace || s.Parent().SpanID().String() != clientParent || !s.Parent().IsRemote() {
		t.Errorf("trace %s parent %s, want the client's %s / %s", s.SpanContext().TraceID(), s.Parent().SpanID(), clientTrace, clientParent)
	}
	if inHandler.SpanID() != s.SpanContext().SpanID() {
		t.Errorf("the handler ran in span %s, want the server span %s", inHandler.SpanID(), s.SpanContext().SpanID())
	}
	for key, want := range map[attribute.Key]attribute.Value{
		"http.request.method":       attribute.StringValue("GET"),
		"http.route":                attribute.StringValue("/items/:id"),
		"url.path":                  attribute.StringValue("/items/7"),
		"http.response.status_code": attribute.IntValue(http.StatusOK),
	} {
		if got, ok := attr(s, key); !ok || got != want {
			t.Errorf("%s = %v (set: %t), want %v", key, got.Emit(), ok, want.Emit())
		}
	}
	if s.Status().Code == codes.Error {
		t.Error("a 200 marked the span failed")
	}

	serve(t, r, http.MethodGet, "/fail")
	if s := spans.Ended()[1]; s.Status().Code != codes.Error || s.Parent().IsValid() {
		t.Errorf("a 502: status %v, parent %v; want an error status on a new trace", s.Status(), s.Parent())
	}
	serve(t, r, http.MethodGet, "/nowhere")
	if s := spans.Ended()[2]; s.Name() != "GET" || s.Status().Code == codes.Error {
		t.Errorf("an unmatched route: span %q status %v, want GET and no error for the 404", s.Name(), s.Status())
	}
	serve(t, r, "BREW", "/items/7")
	if s := spans.Ended()[3]; s.Name() != "HTTP" {
		t.Errorf("an unknown method's span is %q, want HTTP", s.Name())
	}
	serve(t, r, http.MethodGet, "/healthz", "traceparent", traceparent)
	if n := len(spans.Ended()); n != 4 {
		t.Errorf("%d spans after a probe, want no span for it", n)
	}
}

// With tracing off nothing is recorded, but the client's trace context still
// reaches the handler, so the record it sends carries it on.
func TestTracingOffAdoptsTheClientsContext(t *testing.T) {
	var inHandler trace.SpanContext
	r := newRouter(Tracing(tracing.Disabled()))
	r.GET("/x", func(c *gin.Context) {
		inHandler = trace.SpanContextFromContext(c.Request.Context())
		c.Status(http.StatusOK)
	})
	serve(t, r, http.MethodGet, "/x", "traceparent", traceparent)
	if inHandler.TraceID().String() != clientTrace || inHandler.SpanID().String() != clientParent {
		t.Errorf("the handler saw %s / %s, want the client's %s / %s", inHandler.TraceID(), inHandler.SpanID(), clientTrace, clientParent)
	}
	serve(t, r, http.MethodGet, "/x")
	if inHandler.IsValid() {
		t.Errorf("without a traceparent the handler saw trace %s, want none", inHandler.TraceID())
	}
}

// DropTraceContext in front: the client's trace is not continued.
func TestDropTraceContextStartsANewTrace(t *testing.T) {
	tr, spans := recordingTracing(t)
	r := newRouter(DropTraceContext(), Tracing(tr))
	r.GET("/x", func(c *gin.Context) { c.Status(http.StatusOK) })
	serve(t, r, http.MethodGet, "/x", "traceparent", traceparent, "baggage", "tenant=evil")
	s := spans.Ended()[0]
	if s.SpanContext().TraceID().String() == clientTrace || s.Parent().IsValid() {
		t.Errorf("trace %s parent %v, want a new root", s.SpanContext().TraceID(), s.Parent())
	}
}
