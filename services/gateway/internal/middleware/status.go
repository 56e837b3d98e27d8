package middleware

import (
	"github.com/gin-gonic/gin"
)

// StatusClientClosedRequest is nginx's code for a client that left before its answer.
const StatusClientClosedRequest = 499

// answeredStatus is the status the client got: 499 when it left before anything was
// written (gin would report its default 200), else what the handler wrote.
func answeredStatus(c *gin.Context) int {
	if !c.Writer.Written() && c.Request.Context().Err() != nil {
		return StatusClientClosedRequest
	}
	return c.Writer.Status()
}
