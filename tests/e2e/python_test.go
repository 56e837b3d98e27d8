package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// pythonVenv returns the python of the venv tests/python/venv.sh builds (once, from
// PyPI) for the Python peers.
func pythonVenv(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(suite.repoRoot, "tests", "python", "venv.sh"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tests/python/venv.sh: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// runPython runs a script of tests/python in the venv, killing it after within, and
// returns its stdout; the test fails if it exits non-zero.
func runPython(t *testing.T, within time.Duration, script string, args ...string) []byte {
	t.Helper()
	python := pythonVenv(t)
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{script}, args...)...)
	cmd.Dir = filepath.Join(suite.repoRoot, "tests", "python")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", script, strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// The committed contract file is what the real pydantic models say today.
func TestContractCasesAreCurrent(t *testing.T) {
	runPython(t, 2*time.Minute, "contract_cases.py", "--check")
}

// contractCase is a body of pkg/messages/testdata/contract/cases.json.
type contractCase struct {
	Name       string  `json:"name"`
	Body       *string `json:"body"`
	BodyBase64 string  `json:"body_base64"`
	Request    struct {
		Accepted bool `json:"accepted"`
		Value    *struct {
			CorrelationID string `json:"correlation_id"`
		} `json:"value"`
	} `json:"request"`
}

// acceptedShapes are the request bodies the pydantic models accept, but for the
// documented deviations, with their base64 bodies filled in.
func acceptedShapes(t *testing.T) []contractCase {
	t.Helper()
	dir := filepath.Join(suite.repoRoot, "pkg", "messages", "testdata", "contract")
	var file struct{ Cases []contractCase }
	var deviations map[string]string
	for name, v := range map[string]any{"cases.json": &file, "deviations.json": &deviations} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var shapes []contractCase
	for _, c := range file.Cases {
		if _, ok := deviations[c.Name]; ok || !c.Request.Accepted {
			continue
		}
		if c.Body != nil {
			c.BodyBase64 = base64.StdEncoding.EncodeToString([]byte(*c.Body))
		}
		shapes = append(shapes, c)
	}
	return shapes
}

// FastStream publishes every request shape pydantic accepts the way its request/reply
// pattern does on Kafka (a reply_to header and a correlation_id of its own), and gets
// each answer on its reply topic, matched by that correlation_id and read with the
// original SampleResMsg model. Nothing goes to the out-topic or the dead-letter topic.
func TestFastStreamRequestsEveryAcceptedShapeViaReplyTo(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	replyTopic := tp.in + ".replies"
	if err := newAdmin(t, suite.brokers).CreateTopic(replyTopic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	startPair(t, suite.brokers, tp)

	shapes := acceptedShapes(t)
	if len(shapes) < 50 {
		t.Fatalf("only %d accepted shapes", len(shapes))
	}
	casesFile := filepath.Join(t.TempDir(), "cases.json")
	b, _ := json.Marshal(shapes)
	if err := os.WriteFile(casesFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := runPython(t, 3*time.Minute, "faststream_peer.py", "request", "--brokers", suite.brokers,
		"--topic", tp.in, "--reply-topic", replyTopic, "--cases", casesFile, "--timeout", "90")

	var got struct {
		Answered map[string]struct {
			Body struct {
				CorrelationID string `json:"correlation_id"`
				Status        string `json:"status"`
				Data          struct {
					Message string `json:"message"`
				} `json:"data"`
			} `json:"body"`
		} `json:"answered"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("peer output: %v: %s", err, out)
	}
	for _, c := range shapes {
		a, ok := got.Answered[c.Name]
		switch {
		case !ok:
			t.Errorf("%s: no reply", c.Name)
		case a.Body.Status != "Completed" || a.Body.Data.Message != "pong from subscriber":
			t.Errorf("%s: reply %+v", c.Name, a.Body)
		case c.Request.Value != nil && a.Body.CorrelationID != c.Request.Value.CorrelationID:
			t.Errorf("%s: reply correlation_id %q, want the request's %q", c.Name, a.Body.CorrelationID, c.Request.Value.CorrelationID)
		}
	}
	t.Logf("%d shapes published by FastStream, %d answered on the reply_to topic", len(shapes), len(got.Answered))
	for _, topic := range []string{tp.out, tp.dlq} {
		if n := countRecords(t, topic); n != 0 {
			t.Errorf("%d records on %s, want none", n, topic)
		}
	}
}

// What the gateway publishes and the worker answers parses in FastStream subscribers
// typed with the original SampleReqMsg and SampleResMsg models.
func TestFastStreamReadsGatewayAndWorkerRecords(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	gateway, _ := startPair(t, suite.brokers, tp)
	var ids []string
	for _, id := range []string{"fs-read-1", "fs-read-2", "3f2b8c1e-9d4a-4e7b-8f1c-2a6d5e9b0c47"} {
		status, got, body := ping(t, gateway, id)
		if status != 200 || got != id {
			t.Fatalf("ping %s: %d %s %s", id, status, got, body)
		}
		ids = append(ids, id)
	}
	out := runPython(t, 3*time.Minute, "faststream_peer.py", "subscribe", "--brokers", suite.brokers,
		"--in-topic", tp.in, "--out-topic", tp.out, "--ids", strings.Join(ids, ","), "--timeout", "90")

	type seen struct {
		Body struct {
			CorrelationID string `json:"correlation_id"`
			Status        string `json:"status"`
			Data          struct {
				Message   string `json:"message"`
				Timestamp string `json:"timestamp"`
			} `json:"data"`
		} `json:"body"`
		Headers map[string]string `json:"headers"`
		Key     string            `json:"key"`
	}
	var got struct {
		Requests map[string]seen `json:"requests"`
		Replies  map[string]seen `json:"replies"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("peer output: %v: %s", err, out)
	}
	for _, id := range ids {
		req, res := got.Requests[id], got.Replies[id]
		if req.Body.CorrelationID != id || req.Body.Data.Message != "Send for in-topic" || req.Key != id ||
			req.Headers["correlation_id"] != id || req.Headers["content-type"] != "application/json" {
			t.Errorf("%s: FastStream read the request as %+v", id, req)
		}
		if _, err := time.Parse(time.RFC3339Nano, req.Body.Data.Timestamp); err != nil {
			t.Errorf("%s: request timestamp: %v", id, err)
		}
		if res.Body.CorrelationID != id || res.Body.Status != "Completed" || res.Body.Data.Message != "pong from subscriber" ||
			res.Key != id || res.Headers["correlation_id"] != id {
			t.Errorf("%s: FastStream read the reply as %+v", id, res)
		}
	}
}
