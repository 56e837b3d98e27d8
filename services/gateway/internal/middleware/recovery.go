package middleware

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/correlation"
	"github.com/streamgate/streamgate/pkg/platform/logging"
)

// Recovery turns a panic in a handler into a logged error and a JSON 500, so one bad
// request never takes the process down.
func Recovery(logger *zap.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			recovered := recover()
			if recovered == nil {
				return
			}
			if err, ok := recovered.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				// net/http's own signal to drop the connection; let it through.
				panic(recovered)
			}
			logger.Error("panic while handling request",
				logging.CorrelationID(correlation.FromContext(c.Request.Context())),
				zap.Any("panic", recovered),
				zap.StackSkip("stack", 2),
			)
			if c.Writer.Written() {
				c.Abort()
				return
			}
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"detail": "Internal Server Error"})
		}()
		c.Next()
	}
}
