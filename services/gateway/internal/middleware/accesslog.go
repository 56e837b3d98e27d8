package middleware

import (
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/correlation"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// AccessLog writes one line per request. Requests to quietPaths (the probes, which
// Kubernetes calls every few seconds) are logged at debug level only.
func AccessLog(logger *zap.Logger, quietPaths ...string) gin.HandlerFunc {
	quiet := make(map[string]bool, len(quietPaths))
	for _, p := range quietPaths {
		quiet[p] = true
	}
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		level := zap.InfoLevel
		if quiet[c.Request.URL.Path] {
			level = zap.DebugLevel
		}
		logger.Log(level, "request",
			logging.CorrelationID(correlation.FromContext(c.Request.Context())),
			tracing.LogFields(c.Request.Context()),
			zap.String("method", c.Request.Method),
			zap.String("path", c.Request.URL.Path),
			zap.Int("status", c.Writer.Status()),
			zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			zap.String("client_ip", c.ClientIP()),
		)
	}
}
