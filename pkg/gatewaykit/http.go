package gatewaykit

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
)

// Bounds of a request endpoint's ?timeout.
const (
	DefaultReplyTimeout = 5 * time.Second
	// MaxReplyTimeout ends the wait before the server's write timeout cuts the answer.
	MaxReplyTimeout = 30 * time.Second
)

// PublishEndpoint is an HTTP endpoint that publishes one message per request and
// answers once the broker has it.
type PublishEndpoint[T any] struct {
	Publisher *Publisher[T]
	Logger    *zap.Logger
	// Message builds the message from the HTTP request and its correlation ID (the
	// X-Correlation-ID sent, or a new one); an error is answered 422 with its text.
	Message func(c *gin.Context, correlationID string) (T, error)
	// Key is the record's key; nil keys by correlation ID.
	Key func(T) string
	// Answer writes the success response.
	Answer func(c *gin.Context, msg T)
}

// PublishHandler serves e: publish, then Answer, or 500 when the broker did not take it.
func PublishHandler[T any](e PublishEndpoint[T]) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := correlation.FromContext(c.Request.Context())
		msg, err := e.Message(c, id)
		if err != nil {
			c.JSON(http.StatusUnprocessableEntity, gin.H{"detail": err.Error()})
			return
		}
		if err := e.Publisher.Publish(c.Request.Context(), msg, meta(id, msg, e.Key)); err != nil {
			publishFailed(c, e.Logger, e.Publisher.Topic(), err)
			return
		}
		e.Answer(c, msg)
	}
}

// RequestEndpoint is an HTTP endpoint that publishes a request and answers with its
// reply, waiting up to ?timeout (a Go duration such as 2s or 500ms).
type RequestEndpoint[Req, Res any] struct {
	Requester *Requester[Req, Res]
	Logger    *zap.Logger
	// Message builds the request as PublishEndpoint's does.
	Message func(c *gin.Context, correlationID string) (Req, error)
	// Key is the record's key; nil keys by correlation ID.
	Key func(Req) string
	// Answer writes the reply; nil answers 200 with the reply as the worker wrote it.
	Answer func(c *gin.Context, reply Reply[Res])
	// DefaultTimeout is the wait without ?timeout: DefaultReplyTimeout when 0.
	DefaultTimeout time.Duration
}

// RequestHandler serves e: 200 and the reply; 504 when none came within the timeout;
// 503 while replies cannot be read or too many requests wait; 502 for a malformed reply;
// 500 when the request was not published; 400 for a bad ?timeout.
func RequestHandler[Req, Res any](e RequestEndpoint[Req, Res]) gin.HandlerFunc {
	if e.DefaultTimeout <= 0 {
		e.DefaultTimeout = DefaultReplyTimeout
	}
	return func(c *gin.Context) {
		if errors.Is(e.Requester.Ready(), ErrRepliesDisabled) {
			c.JSON(http.StatusServiceUnavailable, gin.H{"detail": "Request/reply needs Kafka (KAFKA_ENABLED=false)"})
			return
		}
		timeout, err := replyTimeout(c.Query("timeout"), e.DefaultTimeout)
		if err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"detail": err.Error()})
			return
		}
		ctx := c.Request.Context()
		id := correlation.FromContext(ctx)
		msg, err := e.Message(c, id)
		if err != nil {
			c.JSON(http.StatusUnprocessableEntity, gin.H{"detail": err.Error()})
			return
		}
		// Measured from the request's arrival, so the answer leaves before the server's
		// write timeout cuts it (MaxReplyTimeout < httpserver.WriteTimeout).
		waitCtx, cancel := context.WithDeadline(ctx, httpserver.Started(ctx).Add(timeout))
		defer cancel()
		reply, requestID, err := e.Requester.Request(waitCtx, msg, meta(id, msg, e.Key))
		switch {
		case err == nil:
			if e.Answer != nil {
				e.Answer(c, reply)
			} else {
				c.Data(http.StatusOK, "application/json; charset=utf-8", reply.Raw)
			}
		case errors.Is(err, ErrNotReadingReplies):
			c.JSON(http.StatusServiceUnavailable, gin.H{"detail": "Not reading replies yet"})
		case errors.Is(err, ErrTooManyWaiting):
			c.Header("Retry-After", "1")
			c.JSON(http.StatusServiceUnavailable, gin.H{"detail": "Too many requests waiting for a reply"})
		case errors.Is(err, ErrPublish):
			publishFailed(c, e.Logger, e.Requester.route.Topic, err)
		case errors.Is(err, ErrMalformedReply):
			e.Logger.Warn("malformed reply", logging.CorrelationID(id), tracing.LogFields(ctx), zap.String("request_id", requestID), zap.Error(err))
			c.JSON(http.StatusBadGateway, gin.H{"detail": "The worker's reply is malformed"})
		case ctx.Err() != nil:
			c.Abort() // the client is gone; nobody reads an answer
		case errors.Is(err, context.DeadlineExceeded):
			e.Logger.Warn("no reply in time", logging.CorrelationID(id), tracing.LogFields(ctx), zap.String("request_id", requestID), zap.Duration("timeout", timeout))
			c.JSON(http.StatusGatewayTimeout, gin.H{"detail": fmt.Sprintf("No reply within %s", timeout)})
		default:
			c.JSON(http.StatusInternalServerError, gin.H{"detail": "Failed to process message"})
		}
	}
}

func meta[T any](correlationID string, msg T, key func(T) string) Meta {
	m := Meta{CorrelationID: correlationID}
	if key != nil {
		m.Key = key(msg)
	}
	return m
}

// replyTimeout parses ?timeout: a Go duration such as 2s or 500ms, at most
// MaxReplyTimeout; def when absent.
func replyTimeout(q string, def time.Duration) (time.Duration, error) {
	if q == "" {
		return min(def, MaxReplyTimeout), nil
	}
	d, err := time.ParseDuration(q)
	if err != nil || d <= 0 || d > MaxReplyTimeout {
		return 0, fmt.Errorf("timeout: want a duration such as 2s or 500ms, at most %s; got %q", MaxReplyTimeout, q)
	}
	return d, nil
}

// publishFailed logs a request the broker did not take and answers 500, as the Python
// original does.
func publishFailed(c *gin.Context, logger *zap.Logger, topic string, err error) {
	ctx := c.Request.Context()
	logger.Error("failed to process message",
		logging.CorrelationID(correlation.FromContext(ctx)),
		tracing.LogFields(ctx),
		logging.Topic(topic),
		logging.Operation(logging.OperationPublish),
		logging.Status(messages.StatusFailed),
		zap.Error(err),
	)
	c.JSON(http.StatusInternalServerError, gin.H{"detail": "Failed to process message"})
}
