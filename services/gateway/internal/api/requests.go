package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/correlation"
	"github.com/streamgate/streamgate/pkg/platform/httpserver"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/internal/replies"
)

// Bounds of the ?timeout of POST /v1/requests.
const (
	DefaultReplyTimeout = 5 * time.Second
	MaxReplyTimeout     = 30 * time.Second
)

// Requester publishes a request whose reply is awaited on replyTo, with a correlation_id
// header of its own (requestID) for the reply to echo.
type Requester interface {
	Request(ctx context.Context, msg messages.SampleReqMsg, replyTo, requestID string) error
}

// ReplyRouting is what POST /v1/requests needs: where to publish, where replies come
// back, and the requests of this instance waiting for theirs.
type ReplyRouting struct {
	Requester Requester
	Topic     string // the reply topic, named in each request's reply_to header
	Waiters   *replies.Waiters
	// Ready reports whether replies are being read; a request published before could
	// miss its reply.
	Ready func() error
}

type requestHandler struct {
	logger  *zap.Logger
	routing *ReplyRouting // nil when Kafka is disabled
	topic   string
	now     func() time.Time
}

// serve publishes a request and answers with the worker's reply: 200 and the
// SampleResMsg, or 504 when none came within the timeout.
func (h requestHandler) serve(c *gin.Context) {
	if h.routing == nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"detail": "Request/reply needs Kafka (KAFKA_ENABLED=false)"})
		return
	}
	timeout, err := replyTimeout(c.Query("timeout"))
	if err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"detail": err.Error()})
		return
	}
	if err := h.routing.Ready(); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"detail": "Not reading replies yet"})
		return
	}
	ctx := c.Request.Context()
	id := correlation.FromContext(ctx)
	requestID := correlation.New()
	reply, release, err := h.routing.Waiters.Add(requestID)
	if errors.Is(err, replies.ErrTooManyWaiting) {
		c.Header("Retry-After", "1")
		c.JSON(http.StatusServiceUnavailable, gin.H{"detail": "Too many requests waiting for a reply"})
		return
	} else if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"detail": "Failed to process message"})
		return
	}
	defer release()

	if err := h.routing.Requester.Request(ctx, messages.NewRequest(id, pingMessage, h.now()), h.routing.Topic, requestID); err != nil {
		publishFailed(c, h.logger, h.topic, err)
		return
	}
	// Measured from the request's arrival, so the answer leaves before the server's
	// write timeout cuts it (MaxReplyTimeout < httpserver.WriteTimeout).
	timer := time.NewTimer(time.Until(httpserver.Started(ctx).Add(timeout)))
	defer timer.Stop()
	select {
	case body := <-reply:
		if _, err := messages.DecodeResponse(body); err != nil {
			h.logger.Warn("malformed reply", logging.CorrelationID(id), tracing.LogFields(ctx), zap.String("request_id", requestID), zap.Error(err))
			c.JSON(http.StatusBadGateway, gin.H{"detail": "The worker's reply is malformed"})
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", body)
	case <-timer.C:
		h.logger.Warn("no reply in time", logging.CorrelationID(id), tracing.LogFields(ctx), zap.String("request_id", requestID), zap.Duration("timeout", timeout))
		c.JSON(http.StatusGatewayTimeout, gin.H{"detail": fmt.Sprintf("No reply within %s", timeout)})
	case <-ctx.Done():
		c.Abort() // the client is gone; nobody reads an answer
	}
}

// replyTimeout parses ?timeout: a Go duration such as 2s or 500ms, at most
// MaxReplyTimeout; DefaultReplyTimeout when absent.
func replyTimeout(q string) (time.Duration, error) {
	if q == "" {
		return DefaultReplyTimeout, nil
	}
	d, err := time.ParseDuration(q)
	if err != nil || d <= 0 || d > MaxReplyTimeout {
		return 0, fmt.Errorf("timeout: want a duration such as 2s or 500ms, at most %s; got %q", MaxReplyTimeout, q)
	}
	return d, nil
}
