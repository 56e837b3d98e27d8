package reply

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
)

func TestMessage(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 500_000_000, time.FixedZone("CET", 3600))
	const body = `{"correlation_id":"abc-123","data":{"message":"pong from subscriber","timestamp":"2026-11-27T09:00:00.5Z"},"status":"Completed"}`
	tests := []struct {
		name     string
		headers  map[string]string
		topic    string
		headerID string
		key      string
	}{
		{"to out-topic, body's ID", nil, "out-topic", "abc-123", "abc-123"},
		{"request's correlation_id header echoed", map[string]string{"correlation_id": "fs-uuid-1"}, "out-topic", "fs-uuid-1", "abc-123"},
		{"to reply_to, as FastStream answers", map[string]string{"reply_to": "py-replies.1", "correlation_id": "fs-uuid-2"}, "py-replies.1", "fs-uuid-2", "abc-123"},
		{"reply_to without correlation_id", map[string]string{"reply_to": "py-replies"}, "py-replies", "abc-123", "abc-123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := Message("out-topic", record(tt.headers), messages.NewRequest("abc-123", "Send for in-topic", now), now)
			if err != nil {
				t.Fatal(err)
			}
			if msg.Topic != tt.topic {
				t.Errorf("Topic = %q, want %q", msg.Topic, tt.topic)
			}
			if got := encoded(t, msg.Key); got != tt.key {
				t.Errorf("Key = %q, want %q", got, tt.key)
			}
			if got := encoded(t, msg.Value); got != body {
				t.Errorf("Value = %s\nwant    %s", got, body)
			}
			want := map[string]string{"correlation_id": tt.headerID, "content-type": "application/json"}
			if len(msg.Headers) != len(want) {
				t.Errorf("Headers = %v, want %v", msg.Headers, want)
			}
			for _, h := range msg.Headers {
				if want[string(h.Key)] != string(h.Value) {
					t.Errorf("header %s = %q, want %q", h.Key, h.Value, want[string(h.Key)])
				}
			}
		})
	}
}

func TestMessageRejectsBadReplyTo(t *testing.T) {
	for _, to := range []string{"has space", "a/b", "..", ".", strings.Repeat("t", 250), "é"} {
		_, err := Message("out-topic", record(map[string]string{"reply_to": to}), messages.SampleReqMsg{CorrelationID: "a"}, time.Now())
		if !errors.Is(err, ErrBadReplyTo) {
			t.Errorf("reply_to %q: err = %v, want ErrBadReplyTo", to, err)
		}
	}
}

func TestMessageRejectsUnsendableRequest(t *testing.T) {
	_, err := Message("out-topic", record(nil), messages.SampleReqMsg{CorrelationID: "ab\xff"}, time.Now())
	var ve *messages.ValidationError
	if !errors.As(err, &ve) || ve.Field != "correlation_id" {
		t.Errorf("err = %v, want a ValidationError on correlation_id", err)
	}
}

func record(headers map[string]string) *sarama.ConsumerMessage {
	rec := &sarama.ConsumerMessage{Topic: "in-topic"}
	for k, v := range headers {
		rec.Headers = append(rec.Headers, &sarama.RecordHeader{Key: []byte(k), Value: []byte(v)})
	}
	return rec
}

func encoded(t *testing.T, e sarama.Encoder) string {
	t.Helper()
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
