package middleware

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/correlation"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// AccessLog writes one line per request: at info level for requests answered with an
// error status (4xx, 5xx), and for successful ones too when all is set; otherwise
// successful requests, and every request to quietPaths (the probes, which Kubernetes
// calls every few seconds), at debug level. A line costs more CPU than the rest of a
// request without Kafka (make bench), so a gateway logs what needs attention, not
// every pong.
func AccessLog(logger *zap.Logger, all bool, quietPaths ...string) gin.HandlerFunc {
	quiet := pathSet(quietPaths)
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := answeredStatus(c)
		level := zap.InfoLevel
		if quiet[c.Request.URL.Path] || (!all && status < http.StatusBadRequest) {
			level = zap.DebugLevel
		}
		line := logger.Check(level, "request")
		if line == nil {
			return // fields are built only for a line that is written
		}
		line.Write(
			logging.CorrelationID(correlation.FromContext(c.Request.Context())),
			tracing.LogFields(c.Request.Context()),
			zap.String("method", c.Request.Method),
			logging.String("path", c.Request.URL.Path),
			zap.Int("status", status),
			zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			zap.String("client_ip", c.ClientIP()),
		)
	}
}
