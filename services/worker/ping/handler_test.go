package ping

import (
	"context"
	"testing"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/router"
	"github.com/streamgate/streamgate/services/worker/workerapp"
)

// The reply is the Python subscriber's, byte for byte through the pydantic-exact codec.
func TestHandleAnswersLikeThePythonSubscriber(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 500_000_000, time.FixedZone("CET", 3600))
	h := Handler{Now: func() time.Time { return now }}
	res, err := h.Handle(context.Background(), router.Message[messages.SampleReqMsg]{
		Body: messages.NewRequest("abc-123", "Send for in-topic", now),
	})
	if err != nil {
		t.Fatal(err)
	}
	rt := Route(workerapp.Config{OutTopic: "out-topic", DLQTopic: "in-topic.dlq"}, h)
	b, err := rt.Reply.Encode(res)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"correlation_id":"abc-123","data":{"message":"pong from subscriber","timestamp":"2026-11-27T09:00:00.5Z"},"status":"Completed"}`
	if string(b) != want {
		t.Errorf("reply %s\nwant  %s", b, want)
	}
}

// The route is valid as the worker's defaults configure it, and ordered by partition.
func TestRouteRegisters(t *testing.T) {
	r := router.New(router.Config{})
	cfg := workerapp.Config{OutTopic: messages.TopicOut, DLQTopic: messages.TopicDeadLetter}
	cfg.InTopic = messages.TopicIn
	if err := Register(r, cfg); err != nil {
		t.Fatal(err)
	}
	if got := r.Topics(); len(got) != 1 || got[0] != messages.TopicIn {
		t.Errorf("Topics = %v", got)
	}
	if rt := Route(cfg, Handler{}); rt.Ordering != router.ByPartition || rt.Name != Name {
		t.Errorf("route %s ordered %v, want ping by partition", rt.Name, rt.Ordering)
	}
}
