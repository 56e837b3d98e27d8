package middleware

import "github.com/gin-gonic/gin"

// DropTraceContext removes the W3C trace-context and baggage headers a client sent, so
// that Tracing starts a new trace and records carry no client-chosen baggage. The
// gateway uses it unless TRUST_INCOMING_TRACE_CONTEXT is set.
func DropTraceContext() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Request.Header
		h.Del("Traceparent")
		h.Del("Tracestate")
		h.Del("Baggage")
		c.Next()
	}
}
