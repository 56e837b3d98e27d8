// Package ping is the worker's request/reply flow, the Python original's
//
//	@router.subscriber(in_topic)
//	@router.publisher(out_topic)
//	async def task_handler(body: SampleReqMsg) -> SampleResMsg:
//	    return SampleResMsg(correlation_id=body.correlation_id, data=..., status="Completed")
//
// as a router handler, with the pydantic-exact pkg/messages codec.
package ping

import (
	"context"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/router"
)

// Text is the message every reply carries, as the Python subscriber writes it.
const Text = "pong from subscriber"

// Handler answers pings; Now stamps the replies.
type Handler struct {
	Now func() time.Time
}

// Handle is task_handler: every valid request gets a Completed reply with its
// correlation ID.
func (h Handler) Handle(_ context.Context, msg router.Message[messages.SampleReqMsg]) (messages.SampleResMsg, error) {
	return messages.NewResponse(msg.Body.CorrelationID, Text, messages.StatusCompleted, h.Now()), nil
}
