package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/services/gateway/internal/docs"
)

// pingMessage is the text the Python original sends to the worker.
const pingMessage = "Send for in-topic"

// PingResponse is the body of a successful GET /v1/ping.
type PingResponse struct {
	Version string `json:"version"`
	Message string `json:"message"`
}

// Sample is the ping flow of the Python original: GET /v1/ping publishes a SampleReqMsg
// to the in-topic and answers pong; POST /v1/requests publishes one and answers with
// the worker's SampleResMsg from <in-topic>.replies. Its documents are served beside
// them: /openapi.json with Swagger UI at /docs, and /asyncapi.json.
type Sample struct {
	Logger  *zap.Logger
	Version string
	InTopic string
	// AsyncAPI is the document served at /asyncapi.json.
	AsyncAPI []byte
	// Now stamps messages; tests pin it.
	Now func() time.Time
}

// Endpoints returns the registration of the flow's routes, publishing through kit.
func (s Sample) Endpoints(kit *gatewaykit.Kit) func(gin.IRouter) error {
	return func(r gin.IRouter) error {
		// pydantic-exact, as the Python worker expects.
		requestCodec := gatewaykit.CodecFuncs(messages.EncodeRequest, messages.DecodeRequest)
		requester, err := gatewaykit.NewRequester(kit, gatewaykit.RequestRoute[messages.SampleReqMsg, messages.SampleResMsg]{
			Topic:         s.InTopic,
			ReplyTopic:    messages.ReplyTopic(s.InTopic),
			Request:       requestCodec,
			Reply:         gatewaykit.CodecFuncs(messages.EncodeResponse, messages.DecodeResponse),
			ReplyToHeader: true,
		})
		if err != nil {
			return err
		}
		docs.Register(r, s.AsyncAPI)
		pong, _ := json.Marshal(PingResponse{Version: s.Version, Message: "pong"}) // two strings: cannot fail
		r.GET("/v1/ping", gatewaykit.PublishHandler(gatewaykit.PublishEndpoint[messages.SampleReqMsg]{
			Publisher: gatewaykit.NewPublisher(kit, s.InTopic, requestCodec),
			Logger:    s.Logger,
			Message:   s.request,
			Answer: func(c *gin.Context, _ messages.SampleReqMsg) {
				c.Data(http.StatusOK, gin.MIMEJSON+"; charset=utf-8", pong)
			},
		}))
		r.POST("/v1/requests", gatewaykit.RequestHandler(gatewaykit.RequestEndpoint[messages.SampleReqMsg, messages.SampleResMsg]{
			Requester: requester,
			Logger:    s.Logger,
			Message:   s.request,
		}))
		return nil
	}
}

// request is the message both routes send.
func (s Sample) request(_ *gin.Context, correlationID string) (messages.SampleReqMsg, error) {
	return messages.NewRequest(correlationID, pingMessage, s.Now()), nil
}
