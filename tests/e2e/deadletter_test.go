package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// Malformed records are set aside on the dead-letter topic, unchanged and with the
// reason, and the worker keeps answering good requests.
func TestMalformedRecordsGoToDeadLetterTopic(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	gateway, worker := startPair(t, suite.brokers, tp)

	cases := []struct {
		name, value, reason string
	}{
		// What the pydantic models reject (pkg/messages/testdata/contract).
		{"not JSON", `this is not json {`, "not valid JSON"},
		{"no correlation_id", `{"data":{"message":"m","timestamp":"2026-11-27T10:00:00Z"}}`, "correlation_id"},
		{"data not an object", `{"correlation_id":"x","data":"m"}`, "data"},
		{"timestamp not a string", `{"correlation_id":"x","data":{"message":"m","timestamp":1764237600}}`, "timestamp"},
	}
	type sent struct {
		id, value, reason string
		partition         int32
		offset            int64
	}
	var all []sent
	for _, tc := range cases {
		id := "dlq-" + uuid.NewString()
		p, o := produce(t, suite.brokers, tp.in, []byte(id), []byte(tc.value),
			sarama.RecordHeader{Key: []byte("correlation_id"), Value: []byte(id)})
		all = append(all, sent{id, tc.value, tc.reason, p, o})
	}

	// A good request after the bad ones is still answered.
	status, id, body := ping(t, gateway, "")
	if status != http.StatusOK {
		t.Fatalf("ping after malformed records: %d %s", status, body)
	}
	checkReplyRecord(t, tp, id)

	dead := readUntil(t, suite.brokers, tp.dlq, 30*time.Second, func(seen []*sarama.ConsumerMessage) bool {
		return len(seen) >= len(all)
	})
	byKey := map[string]*sarama.ConsumerMessage{}
	for _, msg := range dead {
		byKey[string(msg.Key)] = msg
	}
	for i, want := range all {
		msg := byKey[want.id]
		if msg == nil {
			t.Errorf("%s: not on the dead-letter topic", cases[i].name)
			continue
		}
		if string(msg.Value) != want.value {
			t.Errorf("%s: dead letter value %q, want the original %q", cases[i].name, msg.Value, want.value)
		}
		reason := testkit.Header(msg, "dlq_error")
		if reason == "" || !strings.Contains(reason, want.reason) {
			t.Errorf("%s: dlq_error = %q, want it to mention %q", cases[i].name, reason, want.reason)
		}
		if testkit.Header(msg, "dlq_original_topic") != tp.in ||
			testkit.Header(msg, "dlq_original_partition") != strconv.Itoa(int(want.partition)) ||
			testkit.Header(msg, "dlq_original_offset") != strconv.FormatInt(want.offset, 10) {
			t.Errorf("%s: origin headers %q/%q/%q, want %s/%d/%d", cases[i].name,
				testkit.Header(msg, "dlq_original_topic"), testkit.Header(msg, "dlq_original_partition"), testkit.Header(msg, "dlq_original_offset"),
				tp.in, want.partition, want.offset)
		}
		if testkit.Header(msg, "correlation_id") != want.id {
			t.Errorf("%s: original headers not kept: correlation_id = %q", cases[i].name, testkit.Header(msg, "correlation_id"))
		}
		waitLogged(t, worker, want.id, "level", "warn")
	}
}

// Records the pydantic models accept are answered, however little they carry: none of
// them reaches the dead-letter topic.
func TestRecordsPydanticAcceptsAreAnswered(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	startPair(t, suite.brokers, tp)

	long := strings.Repeat("x", 160)
	bodies := map[string]string{ // %[1]s is the correlation ID
		"no data":                  `{"correlation_id":"%[1]s"}`,
		"data null":                `{"correlation_id":"%[1]s","data":null}`,
		"no timestamp":             `{"correlation_id":"%[1]s","data":{"message":"m"}}`,
		"timestamp null":           `{"correlation_id":"%[1]s","data":{"message":"m","timestamp":null}}`,
		"timestamp not RFC 3339":   `{"correlation_id":"%[1]s","data":{"message":"m","timestamp":"yesterday"}}`,
		"correlation_id 200 chars": `{"correlation_id":"%[1]s","data":{"message":"m"}}`,
		"unknown and duplicate":    `{"correlation_id":1,"correlation_id":"%[1]s","Data":5,"extra":[1]}`,
	}
	want := map[string]string{} // reply key -> case
	for name, body := range bodies {
		id := "ok-" + uuid.NewString()
		if name == "correlation_id 200 chars" {
			id += long
		}
		want[id] = name
		produce(t, suite.brokers, tp.in, []byte(id), []byte(fmt.Sprintf(body, id)))
	}
	replies := readUntil(t, suite.brokers, tp.out, 30*time.Second, func(seen []*sarama.ConsumerMessage) bool {
		return len(seen) >= len(want)
	})
	for _, msg := range replies {
		name, ok := want[string(msg.Key)]
		if !ok {
			t.Errorf("unexpected reply %s", msg.Value)
			continue
		}
		delete(want, string(msg.Key))
		var body struct {
			CorrelationID string `json:"correlation_id"`
			Status        string `json:"status"`
		}
		if err := json.Unmarshal(msg.Value, &body); err != nil || body.CorrelationID != string(msg.Key) || body.Status != "Completed" {
			t.Errorf("%s: reply %s (%v)", name, msg.Value, err)
		}
	}
	for _, name := range want {
		t.Errorf("%s: no reply", name)
	}
	if n := countRecords(t, tp.dlq); n != 0 {
		t.Errorf("%d records on the dead-letter topic, want none", n)
	}
}
