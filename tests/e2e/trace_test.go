package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// traceparent splits a W3C traceparent header into its trace and parent span IDs.
func traceparent(t *testing.T, value string) (traceID, spanID string) {
	t.Helper()
	parts := strings.Split(value, "-")
	if len(parts) != 4 || parts[0] != "00" || len(parts[1]) != 32 || len(parts[2]) != 16 {
		t.Fatalf("traceparent %q is not a W3C version 00 header", value)
	}
	return parts[1], parts[2]
}

// waitSpan waits until the receiver has a span of trace with the given service, name
// and kind, and returns it.
func waitSpan(t *testing.T, r *otlpReceiver, trace, service, name string, kind tracepb.Span_SpanKind) receivedSpan {
	t.Helper()
	var found receivedSpan
	waitFor(t, 30*time.Second, fmt.Sprintf("span %s %q in trace %s", service, name, trace), func() error {
		for _, s := range r.trace(trace) {
			if s.service == service && s.name == name && s.kind == kind {
				found = s
				return nil
			}
		}
		return errNotYet
	})
	return found
}

// One GET /v1/ping makes one trace: the gateway's server and producer spans, the
// worker's consumer span (under which its handler's first call runs) and its reply's producer span,
// linked parent to child, with traceparent on the request and the reply records.
func TestTraceThroughGatewayAndWorker(t *testing.T) {
	receiver := newOTLPReceiver(t)
	tp := newTopics(t, suite.brokers)
	gateway := startService(t, "gateway", append(tp.env(suite.brokers), append(receiver.env(), "POD_NAME=gateway-pod", "POD_NAMESPACE=e2e")...)...)
	worker := startService(t, "worker", append(tp.env(suite.brokers), append(receiver.env(), "POD_NAME=worker-pod", "POD_NAMESPACE=e2e")...)...)
	waitReady(t, worker, 60*time.Second)
	waitReady(t, gateway, 60*time.Second)
	id := "trace-" + uuid.NewString()
	status, answer, body, err := gateway.request("/v1/ping", http.Header{"X-Correlation-Id": {id}})
	if err != nil || status != http.StatusOK {
		t.Fatalf("ping: %d %s %v", status, body, err)
	}
	trace, requestParent := traceparent(t, testkit.Header(recordWithKey(t, tp.in, id), "traceparent"))
	if got := answer.Get("X-Trace-Id"); got != trace {
		t.Errorf("X-Trace-Id %q, want the request's trace %s", got, trace)
	}
	replyTrace, replyParent := traceparent(t, testkit.Header(recordWithKey(t, tp.out, id), "traceparent"))
	if replyTrace != trace {
		t.Fatalf("reply is in trace %s, the request in %s", replyTrace, trace)
	}

	server := waitSpan(t, receiver, trace, "gateway", "GET /v1/ping", tracepb.Span_SPAN_KIND_SERVER)
	send := waitSpan(t, receiver, trace, "gateway", "send "+tp.in, tracepb.Span_SPAN_KIND_PRODUCER)
	process := waitSpan(t, receiver, trace, "worker", "process "+tp.in, tracepb.Span_SPAN_KIND_CONSUMER)
	reply := waitSpan(t, receiver, trace, "worker", "send "+tp.out, tracepb.Span_SPAN_KIND_PRODUCER)
	for _, link := range []struct {
		what          string
		child, parent string
	}{
		{"the server span is the root", server.parent, ""},
		{"the gateway's send span is the server span's child", send.parent, server.spanID},
		{"the request record carries the send span", requestParent, send.spanID},
		{"the worker's process span is the request's child", process.parent, send.spanID},
		{"the reply's send span is the process span's child", reply.parent, process.spanID},
		{"the reply record carries the reply's send span", replyParent, reply.spanID},
	} {
		if link.child != link.parent {
			t.Errorf("%s: got %q, want %q", link.what, link.child, link.parent)
		}
	}
	if process.attributes["messaging.system"] != "kafka" || process.attributes["messaging.destination.name"] != tp.in ||
		process.attributes["messaging.consumer.group.name"] != tp.group {
		t.Errorf("process span attributes = %v", process.attributes)
	}
	// Every span of the request carries its correlation ID; the messaging spans the key.
	// The handler's first call runs under the process span, which names it.
	if process.attributes["streamgate.route"] != "ping" || process.attributes["streamgate.attempt"] != "1" {
		t.Errorf("process span attributes = %v, want route ping, attempt 1", process.attributes)
	}
	for _, s := range []receivedSpan{server, send, process, reply} {
		if got := s.attributes["messaging.message.conversation_id"]; got != id {
			t.Errorf("%s %q: messaging.message.conversation_id %q, want %q", s.service, s.name, got, id)
		}
	}
	// Each says which pod sent it (POD_NAME and POD_NAMESPACE, from the downward API in
	// the charts).
	for _, s := range []receivedSpan{server, process} {
		if s.resource["k8s.pod.name"] != s.service+"-pod" || s.resource["service.instance.id"] != "e2e/"+s.service+"-pod" ||
			s.resource["k8s.namespace.name"] != "e2e" || s.resource["host.name"] == "" {
			t.Errorf("%s resource %v, want its pod, namespace, instance and host", s.service, s.resource)
		}
	}
	for _, s := range []receivedSpan{send, process, reply} {
		if got := s.attributes["messaging.kafka.message.key"]; got != id {
			t.Errorf("%s %q: messaging.kafka.message.key %q, want %q", s.service, s.name, got, id)
		}
	}
	time.Sleep(300 * time.Millisecond) // a later export would show a stray span
	if spans := receiver.trace(trace); len(spans) != 4 {
		t.Errorf("trace %s has %d spans, want exactly these 4: %+v", trace, len(spans), spans)
	}
	waitLogged(t, worker, id, "trace_id", trace)
	waitLogged(t, gateway, id, "trace_id", trace)
}

// A record a real FastStream publisher wrote, with the traceparent of its own span, is
// continued by the worker: its process span is that span's child and the reply carries
// the same trace.
func TestFastStreamTraceIsContinued(t *testing.T) {
	receiver := newOTLPReceiver(t)
	tp := newTopics(t, suite.brokers)
	worker := startService(t, "worker", append(tp.env(suite.brokers), receiver.env()...)...)
	waitReady(t, worker, 60*time.Second)

	id := "faststream-" + uuid.NewString()
	out := runPython(t, 3*time.Minute, "faststream_publish.py", suite.brokers, tp.in, id)
	var published struct {
		TraceID string            `json:"trace_id"`
		Spans   map[string]string `json:"spans"`
	}
	if err := json.Unmarshal(out, &published); err != nil {
		t.Fatalf("FastStream publisher printed %q: %v", out, err)
	}

	trace, parent := traceparent(t, testkit.Header(recordWithKey(t, tp.in, id), "traceparent"))
	if trace != published.TraceID {
		t.Fatalf("the record's traceparent is in trace %s, FastStream's spans in %s", trace, published.TraceID)
	}
	fromFastStream := false
	for _, span := range published.Spans {
		fromFastStream = fromFastStream || span == parent
	}
	if !fromFastStream {
		t.Fatalf("the record's traceparent names span %s, none of FastStream's %v", parent, published.Spans)
	}
	process := waitSpan(t, receiver, trace, "worker", "process "+tp.in, tracepb.Span_SPAN_KIND_CONSUMER)
	if process.parent != parent {
		t.Errorf("worker's process span has parent %s, want FastStream's %s", process.parent, parent)
	}
	replyTrace, replyParent := traceparent(t, testkit.Header(recordWithKey(t, tp.out, id), "traceparent"))
	reply := waitSpan(t, receiver, trace, "worker", "send "+tp.out, tracepb.Span_SPAN_KIND_PRODUCER)
	if replyTrace != published.TraceID || replyParent != reply.spanID {
		t.Errorf("reply traceparent %s/%s, want FastStream's trace %s and the worker's send span %s",
			replyTrace, replyParent, published.TraceID, reply.spanID)
	}
}

// POST /v1/requests: the trace runs on to the gateway receiving the reply, a consumer
// span that is the child of the worker's send span.
func TestRequestReplyTraceEndsInTheGateway(t *testing.T) {
	receiver := newOTLPReceiver(t)
	tp := newTopics(t, suite.brokers)
	replyTopic := tp.in + ".replies"
	if err := newAdmin(t, suite.brokers).CreateTopic(replyTopic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	gateway, _ := startPair(t, suite.brokers, tp, receiver.env()...)
	client := &http.Client{Timeout: 40 * time.Second}
	id := "reply-trace-" + uuid.NewString()
	waitFor(t, 60*time.Second, "the gateway answers a request", func() error {
		status, body, err := postRequest(client, gateway, id, "10s")
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("%d %s %v", status, body, err)
		}
		return nil
	})
	trace, _ := traceparent(t, testkit.Header(recordWithKey(t, tp.in, id), "traceparent"))
	send := waitSpan(t, receiver, trace, "worker", "send "+replyTopic, tracepb.Span_SPAN_KIND_PRODUCER)
	received := waitSpan(t, receiver, trace, "gateway", "process "+replyTopic, tracepb.Span_SPAN_KIND_CONSUMER)
	if received.parent != send.spanID {
		t.Errorf("the gateway's reply span has parent %q, want the worker's send span %q", received.parent, send.spanID)
	}
	if received.attributes["messaging.message.conversation_id"] == "" || received.attributes["messaging.destination.name"] != replyTopic {
		t.Errorf("reply span attributes %v", received.attributes)
	}
}
