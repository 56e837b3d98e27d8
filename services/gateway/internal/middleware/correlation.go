// Package middleware holds the gin middleware every gateway route runs through.
package middleware

import (
	"github.com/gin-gonic/gin"

	"github.com/streamgate/streamgate/pkg/platform/correlation"
)

// HeaderCorrelationID carries the correlation ID in HTTP requests and responses.
const HeaderCorrelationID = "X-Correlation-ID"

// Correlation adopts a valid incoming X-Correlation-ID or makes a new one, puts it in
// the request's context and echoes it on the response. It runs first, so that every
// later handler, log line and error response sees the ID.
func Correlation() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := correlation.OrNew(c.GetHeader(HeaderCorrelationID))
		c.Request = c.Request.WithContext(correlation.WithID(c.Request.Context(), id))
		c.Header(HeaderCorrelationID, id)
		c.Next()
	}
}
