package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/correlation"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// pingMessage is the text the Python original sends to the worker.
const pingMessage = "Send for in-topic"

// PingResponse is the body of a successful GET /v1/ping.
type PingResponse struct {
	Version string `json:"version"`
	Message string `json:"message"`
}

type pingHandler struct {
	logger    *zap.Logger
	publisher Publisher
	topic     string
	now       func() time.Time
	// pong is the encoded PingResponse: the same bytes every time, so encoded once.
	pong []byte
}

func newPingHandler(deps Deps) pingHandler {
	pong, _ := json.Marshal(PingResponse{Version: deps.Version, Message: "pong"}) // two strings: cannot fail
	return pingHandler{logger: deps.Logger, publisher: deps.Publisher, topic: deps.Topic, now: deps.Now, pong: pong}
}

// serve publishes a request for the worker and answers pong once the broker has it.
func (h pingHandler) serve(c *gin.Context) {
	ctx := c.Request.Context()
	id := correlation.FromContext(ctx)
	msg := messages.NewRequest(id, pingMessage, h.now())
	if err := h.publisher.Publish(ctx, msg); err != nil {
		publishFailed(c, h.logger, h.topic, err)
		return
	}
	c.Data(http.StatusOK, gin.MIMEJSON+"; charset=utf-8", h.pong)
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
