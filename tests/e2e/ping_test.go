package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// startPair starts a worker and a gateway on tp, with extra settings for both, and
// waits until both are ready.
func startPair(t *testing.T, brokers string, tp topics, extra ...string) (gateway, worker *service) {
	t.Helper()
	worker = startService(t, "worker", append(tp.env(brokers), extra...)...)
	gateway = startService(t, "gateway", append(tp.env(brokers), extra...)...)
	waitReady(t, worker, 60*time.Second)
	waitReady(t, gateway, 60*time.Second)
	return gateway, worker
}

func waitReady(t *testing.T, s *service, within time.Duration) {
	t.Helper()
	waitFor(t, within, s.name+" /readyz", func() error {
		status, body, err := s.get("/readyz", nil)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d: %s", status, body)
		}
		return err
	})
}

// ping calls GET /v1/ping, with the correlation ID when it is not empty, and returns
// status, echoed correlation ID and body.
func ping(t *testing.T, gateway *service, correlationID string) (int, string, []byte) {
	t.Helper()
	header := http.Header{}
	if correlationID != "" {
		header.Set("X-Correlation-ID", correlationID)
	}
	status, respHeader, body, err := gateway.request("/v1/ping", header)
	if err != nil {
		t.Fatalf("GET /v1/ping: %v", err)
	}
	return status, respHeader.Get("X-Correlation-ID"), body
}

func TestPingRoundTrip(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	gateway, worker := startPair(t, suite.brokers, tp)

	given := "e2e-" + uuid.NewString()
	for _, tc := range []struct {
		name, sent string
	}{
		{"with X-Correlation-ID", given},
		{"without X-Correlation-ID", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, id, body := ping(t, gateway, tc.sent)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			if want := `{"version":"` + builtVersion + `","message":"pong"}`; string(body) != want {
				t.Errorf("body = %s, want %s", body, want)
			}
			if tc.sent != "" && id != tc.sent {
				t.Fatalf("echoed %q, want %q", id, tc.sent)
			}
			if _, err := uuid.Parse(id); tc.sent == "" && err != nil {
				t.Fatalf("generated correlation ID %q is not a UUID: %v", id, err)
			}
			checkRequestRecord(t, tp, id)
			checkReplyRecord(t, tp, id)
			checkLogs(t, tp, gateway, worker, id)
		})
	}
}

func findByKey(key string) func([]*sarama.ConsumerMessage) bool {
	return func(seen []*sarama.ConsumerMessage) bool {
		for _, msg := range seen {
			if string(msg.Key) == key {
				return true
			}
		}
		return false
	}
}

func recordWithKey(t *testing.T, topic, key string) *sarama.ConsumerMessage {
	t.Helper()
	for _, msg := range readUntil(t, suite.brokers, topic, 30*time.Second, findByKey(key)) {
		if string(msg.Key) == key {
			return msg
		}
	}
	panic("unreachable: readUntil returned without the record")
}

func checkRequestRecord(t *testing.T, tp topics, id string) {
	t.Helper()
	msg := recordWithKey(t, tp.in, id)
	if got := testkit.Header(msg, "correlation_id"); got != id {
		t.Errorf("in-topic header correlation_id = %q, want %q", got, id)
	}
	if got := testkit.Header(msg, "content-type"); got != "application/json" {
		t.Errorf("in-topic header content-type = %q", got)
	}
	var body struct {
		CorrelationID string `json:"correlation_id"`
		Data          struct {
			Message   string `json:"message"`
			Timestamp string `json:"timestamp"`
		} `json:"data"`
	}
	assertExactKeys(t, msg.Value, []string{"correlation_id", "data"}, []string{"message", "timestamp"})
	if err := json.Unmarshal(msg.Value, &body); err != nil {
		t.Fatalf("in-topic value: %v: %s", err, msg.Value)
	}
	if body.CorrelationID != id || body.Data.Message != "Send for in-topic" {
		t.Errorf("in-topic value = %s", msg.Value)
	}
	if ts, err := time.Parse(time.RFC3339Nano, body.Data.Timestamp); err != nil || time.Since(ts) > time.Minute {
		t.Errorf("in-topic timestamp %q: %v", body.Data.Timestamp, err)
	}
}

func checkReplyRecord(t *testing.T, tp topics, id string) {
	t.Helper()
	msg := recordWithKey(t, tp.out, id)
	if got := testkit.Header(msg, "correlation_id"); got != id {
		t.Errorf("out-topic header correlation_id = %q, want %q", got, id)
	}
	if got := testkit.Header(msg, "content-type"); got != "application/json" {
		t.Errorf("out-topic header content-type = %q", got)
	}
	assertExactKeys(t, msg.Value, []string{"correlation_id", "data", "status"}, []string{"message", "timestamp"})
	var body struct {
		CorrelationID string `json:"correlation_id"`
		Status        string `json:"status"`
		Data          struct {
			Message string `json:"message"`
		} `json:"data"`
	}
	if err := json.Unmarshal(msg.Value, &body); err != nil {
		t.Fatalf("out-topic value: %v: %s", err, msg.Value)
	}
	if body.CorrelationID != id || body.Status != "Completed" || body.Data.Message != "pong from subscriber" {
		t.Errorf("out-topic value = %s", msg.Value)
	}
}

// assertExactKeys checks the JSON object's keys and those of its "data" object.
func assertExactKeys(t *testing.T, value []byte, top, data []string) {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(value, &obj); err != nil {
		t.Fatalf("not a JSON object: %s", value)
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(obj["data"], &inner); err != nil {
		t.Fatalf("data is not a JSON object: %s", value)
	}
	if !sameKeys(obj, top) || !sameKeys(inner, data) {
		t.Errorf("JSON keys of %s: want %v with data %v", value, top, data)
	}
}

func sameKeys(obj map[string]json.RawMessage, keys []string) bool {
	if len(obj) != len(keys) {
		return false
	}
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			return false
		}
	}
	return true
}

// checkLogs asserts that both services logged the request's flow under its ID, with the
// contract's fields.
func checkLogs(t *testing.T, tp topics, gateway, worker *service, id string) {
	t.Helper()
	// The lines per request and record are debug lines (these services run at debug).
	expect := []struct {
		svc                                   *service
		message, topic, operation, sts, level string
	}{
		{gateway, "published", tp.in, "publish", "Received", "debug"},
		{worker, "received", tp.in, "subscribe", "Received", "debug"},
		{worker, "published reply", tp.out, "publish", "Completed", "debug"},
	}
	for _, e := range expect {
		waitFor(t, 15*time.Second, fmt.Sprintf("%s log %q for %s", e.svc.name, e.message, id), func() error {
			for _, line := range e.svc.logsWith("correlation_id", id) {
				if line["message"] != e.message {
					continue
				}
				for key, want := range map[string]string{"topic": e.topic, "operation": e.operation, "status": e.sts, "level": e.level} {
					if line[key] != want {
						return fmt.Errorf("line %v: %s = %v, want %q", line, key, line[key], want)
					}
				}
				if _, ok := line["timestamp"].(string); !ok {
					return fmt.Errorf("line %v lacks timestamp", line)
				}
				return nil
			}
			return errNotYet
		})
	}
	waitLogged(t, gateway, id, "message", "request")
}
