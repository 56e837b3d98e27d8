package deadletter

import (
	"errors"
	"testing"

	"github.com/IBM/sarama"
)

func TestMessageKeepsRecordAndAddsReason(t *testing.T) {
	rec := &sarama.ConsumerMessage{
		Topic:     "in-topic",
		Partition: 2,
		Offset:    41,
		Key:       []byte("key-1"),
		Value:     []byte("not json {"),
		Headers: []*sarama.RecordHeader{
			{Key: []byte("correlation_id"), Value: []byte("key-1")},
			{Key: []byte("x-custom"), Value: []byte("kept")},
		},
	}
	msg := Message("in-topic.dlq", rec, errors.New("messages: payload is not valid JSON"))

	if msg.Topic != "in-topic.dlq" {
		t.Errorf("Topic = %q", msg.Topic)
	}
	if got := encoded(t, msg.Key); got != "key-1" {
		t.Errorf("Key = %q, want key-1", got)
	}
	if got := encoded(t, msg.Value); got != "not json {" {
		t.Errorf("Value = %q, want the original bytes", got)
	}
	want := [][2]string{
		{"correlation_id", "key-1"},
		{"x-custom", "kept"},
		{"dlq_error", "messages: payload is not valid JSON"},
		{"dlq_original_topic", "in-topic"},
		{"dlq_original_partition", "2"},
		{"dlq_original_offset", "41"},
	}
	if len(msg.Headers) != len(want) {
		t.Fatalf("Headers = %q, want %q", msg.Headers, want)
	}
	for i, w := range want {
		if h := msg.Headers[i]; string(h.Key) != w[0] || string(h.Value) != w[1] {
			t.Errorf("header %d = %s: %s, want %s: %s", i, h.Key, h.Value, w[0], w[1])
		}
	}
}

func TestMessageKeepsNullKeyAndValue(t *testing.T) {
	msg := Message("dlq", &sarama.ConsumerMessage{Topic: "in"}, errors.New("empty"))
	if msg.Key != nil || msg.Value != nil {
		t.Errorf("Key, Value = %v, %v; want nil, nil (null stays null)", msg.Key, msg.Value)
	}
}

func TestStripped(t *testing.T) {
	rec := &sarama.ConsumerMessage{
		Topic: "in-topic", Partition: 2, Offset: 9, Key: []byte("k"), Value: make([]byte, 1000),
		Headers: []*sarama.RecordHeader{{Key: []byte("big"), Value: make([]byte, 500)}},
	}
	msg := Stripped("dlq", rec, errors.New("messages: payload is not valid JSON"), "id-9")
	if msg.Value != nil || msg.Key != nil {
		t.Errorf("Key %v, Value %v: want both dropped", msg.Key, msg.Value)
	}
	want := map[string]string{
		"dlq_error":              "messages: payload is not valid JSON (key of 1 bytes, value of 1000 bytes and 1 headers dropped: too large for the dead-letter topic)",
		"dlq_original_topic":     "in-topic",
		"dlq_original_partition": "2",
		"dlq_original_offset":    "9",
		"correlation_id":         "id-9",
	}
	if len(msg.Headers) != len(want) {
		t.Errorf("headers %d, want %d: the original ones are dropped", len(msg.Headers), len(want))
	}
	for _, h := range msg.Headers {
		if w, ok := want[string(h.Key)]; !ok || string(h.Value) != w {
			t.Errorf("header %s = %q, want %q", h.Key, h.Value, w)
		}
	}
}

func TestTooLarge(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{sarama.ErrMessageSizeTooLarge, true},
		{sarama.ConfigurationError("Attempt to produce message larger than configured Producer.MaxMessageBytes: 2 > 1"), true},
		{sarama.ErrNotEnoughReplicas, false},
		{sarama.ErrOutOfBrokers, false},
	}
	for _, tt := range tests {
		if got := TooLarge(tt.err); got != tt.want {
			t.Errorf("TooLarge(%v) = %v, want %v", tt.err, got, tt.want)
		}
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
