package middleware

import (
	"net"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/streamgate/streamgate/pkg/platform/correlation"
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
	skip := pathSet(untraced)
	propagator := t.Propagator()
	if !t.Enabled() {
		return func(c *gin.Context) {
			if c.GetHeader("traceparent") != "" || c.GetHeader("baggage") != "" {
				ctx := propagator.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
				c.Request = c.Request.WithContext(ctx)
				if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
					c.Header(TraceIDHeader, sc.TraceID().String())
				}
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
		// The client learns the trace of its request (sampled or not: the log lines
		// carry its ID either way), before the handler writes the answer.
		if sc := span.SpanContext(); sc.IsValid() {
			c.Header(TraceIDHeader, sc.TraceID().String())
		}
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		if span.IsRecording() {
			// All at the end, in one call: the SDK grows the span's attributes once per
			// call, and a recorded request pays for every growth.
			status := c.Writer.Status()
			attrs := tracing.NewAttributes()
			attrs.Add(
				semconv.HTTPRequestMethodKey.String(c.Request.Method),
				semconv.URLPath(c.Request.URL.Path),
				semconv.URLScheme(scheme(c.Request)),
				semconv.ClientAddress(c.ClientIP()),
				semconv.UserAgentOriginal(c.Request.UserAgent()),
				semconv.MessagingMessageConversationID(correlation.FromContext(ctx)),
				semconv.HTTPResponseStatusCode(status),
			)
			if host, port, ok := serverAddress(c.Request.Host); ok {
				attrs.Add(semconv.ServerAddress(host))
				if port > 0 {
					attrs.Add(semconv.ServerPort(port))
				}
			}
			if route != "" {
				attrs.Add(semconv.HTTPRoute(route))
			}
			if status >= http.StatusInternalServerError {
				// The conventions' error.type for a server error answer is its status code.
				attrs.Add(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			attrs.SetOn(span)
		}
	}
}

// TraceIDHeader is the response header carrying the request's trace ID (32 hex digits),
// to look the trace up in Jaeger or the log lines.
const TraceIDHeader = "X-Trace-Id"

// scheme is the URL scheme the request came in by, as this server saw it (a proxy in
// front is not trusted to say otherwise).
func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// serverAddress splits the Host header into server.address and server.port (0: none).
func serverAddress(hostport string) (host string, port int, ok bool) {
	if hostport == "" {
		return "", 0, false
	}
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport, 0, true // no port
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return h, 0, true
	}
	return h, n, true
}
