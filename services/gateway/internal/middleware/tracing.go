package middleware

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// Tracing starts a server span per request, as a child of the trace context the
// request carries (W3C traceparent), except for paths in untraced (the probes, which
// would only bury real traces). With tracing off it only adopts that trace context,
// so the record the request causes passes it on.
//
// It is not otelgin: otelgin builds its request attributes and records OTel metrics
// for every request, sampled or not, which doubled the in-process cost of GET /v1/ping
// with tracing on and unsampled (BenchmarkGatewayPing). Here attributes are set only on
// spans that are recorded.
func Tracing(t *tracing.Tracing, untraced ...string) gin.HandlerFunc {
	skip := make(map[string]bool, len(untraced))
	for _, p := range untraced {
		skip[p] = true
	}
	propagator := t.Propagator()
	if !t.Enabled() {
		return func(c *gin.Context) {
			if c.GetHeader("traceparent") != "" || c.GetHeader("baggage") != "" {
				ctx := propagator.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
				c.Request = c.Request.WithContext(ctx)
			}
			c.Next()
		}
	}
	tracer := t.TracerProvider().Tracer("github.com/streamgate/streamgate/services/gateway")
	return func(c *gin.Context) {
		if skip[c.Request.URL.Path] {
			c.Next()
			return
		}
		route := c.FullPath()
		method := c.Request.Method
		if !knownMethods[method] {
			method = "HTTP" // as the conventions name spans of unknown methods
		}
		name := method + " " + route
		if route == "" {
			name = method
		}
		ctx := propagator.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
		ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		if span.IsRecording() {
			span.SetAttributes(
				semconv.HTTPRequestMethodKey.String(c.Request.Method),
				semconv.URLPath(c.Request.URL.Path),
				semconv.ClientAddress(c.ClientIP()),
				semconv.UserAgentOriginal(c.Request.UserAgent()),
			)
			if route != "" {
				span.SetAttributes(semconv.HTTPRoute(route))
			}
		}
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		if span.IsRecording() {
			status := c.Writer.Status()
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
		}
	}
}
