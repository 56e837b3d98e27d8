package reply

import (
	"errors"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
)

func TestMessage(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 500_000_000, time.FixedZone("CET", 3600))
	req := messages.NewRequest("abc-123", "Send for in-topic", now)

	msg, err := Message("out-topic", req, now)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Topic != "out-topic" {
		t.Errorf("Topic = %q, want out-topic", msg.Topic)
	}
	if got := encoded(t, msg.Key); got != "abc-123" {
		t.Errorf("Key = %q, want abc-123", got)
	}
	const want = `{"correlation_id":"abc-123","data":{"message":"pong from subscriber","timestamp":"2026-11-27T09:00:00.5Z"},"status":"Completed"}`
	if got := encoded(t, msg.Value); got != want {
		t.Errorf("Value = %s\nwant    %s", got, want)
	}
	wantHeaders := map[string]string{"correlation_id": "abc-123", "content-type": "application/json"}
	if len(msg.Headers) != len(wantHeaders) {
		t.Errorf("Headers = %v, want %v", msg.Headers, wantHeaders)
	}
	for _, h := range msg.Headers {
		if wantHeaders[string(h.Key)] != string(h.Value) {
			t.Errorf("header %s = %q, want %q", h.Key, h.Value, wantHeaders[string(h.Key)])
		}
	}
}

func TestMessageRejectsInvalidRequest(t *testing.T) {
	_, err := Message("out-topic", messages.SampleReqMsg{CorrelationID: "ab\xff"}, time.Now())
	var ve *messages.ValidationError
	if !errors.As(err, &ve) || ve.Field != "correlation_id" {
		t.Errorf("err = %v, want a ValidationError on correlation_id", err)
	}
}

func encoded(t *testing.T, e sarama.Encoder) string {
	t.Helper()
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
