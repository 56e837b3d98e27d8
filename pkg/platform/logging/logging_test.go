package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestJSONLineHasContractFields(t *testing.T) {
	var buf bytes.Buffer
	logger, err := New(Options{Level: "info", Format: FormatJSON, Service: "gateway", Version: "1.0.0", Output: &buf})
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("published", CorrelationID("abc"), Topic("in-topic"), Operation(OperationPublish), Status("Received"))
	logger.Debug("not shown at info")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want 1 line at info level, got %d: %q", len(lines), buf.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatalf("line is not JSON: %v: %s", err, lines[0])
	}
	want := map[string]string{
		"level": "info", "message": "published", "correlation_id": "abc", "topic": "in-topic",
		"operation": "publish", "status": "Received", "service": "gateway", "version": "1.0.0",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("field %s = %v, want %q", k, line[k], v)
		}
	}
	ts, _ := line["timestamp"].(string)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Errorf("timestamp %q is not RFC 3339: %v", ts, err)
	}
}

func TestConsoleFormat(t *testing.T) {
	var buf bytes.Buffer
	logger, err := New(Options{Level: "debug", Format: FormatConsole, Output: &buf})
	if err != nil {
		t.Fatal(err)
	}
	logger.Debug("hello", CorrelationID("abc"))
	if out := buf.String(); !strings.Contains(out, "hello") || !strings.Contains(out, `"correlation_id": "abc"`) {
		t.Fatalf("console line lacks message or field: %q", out)
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := New(Options{Level: "loud", Format: FormatJSON}); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Fatalf("bad level: err = %v, want it to name the value", err)
	}
	if _, err := New(Options{Level: "info", Format: "xml"}); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Fatalf("bad format: err = %v, want it to name the value", err)
	}
}
