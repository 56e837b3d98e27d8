package middleware

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// InFlight lets at most limit requests through to the handlers after it at once and
// answers the others 503 with Retry-After at once, rather than queue them: what waits
// holds memory (its headers, a goroutine) and, past the client's patience, only work
// nobody reads. limit times what one request may hold must fit the memory limit.
func InFlight(limit int) gin.HandlerFunc {
	slots := make(chan struct{}, limit)
	return func(c *gin.Context) {
		select {
		case slots <- struct{}{}:
		default:
			c.Header("Retry-After", "1")
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"detail": "Too many requests in flight, retry later"})
			return
		}
		defer func() { <-slots }()
		c.Next()
	}
}
