package tracing

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/IBM/sarama"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// With tracing off, a record's trace context still reaches the record written for it,
// unchanged, and a record without one gets none.
func TestDisabledPassesTraceContextThrough(t *testing.T) {
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tr := Disabled()
	for _, tt := range []struct {
		name    string
		headers []*sarama.RecordHeader
		want    string
	}{
		{"with a trace", []*sarama.RecordHeader{{Key: []byte("traceparent"), Value: []byte(traceparent)}}, traceparent},
		{"without", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &sarama.ConsumerMessage{Topic: "in-topic", Headers: tt.headers}
			ctx, span := tr.StartProcess(context.Background(), rec, "group")
			sendCtx, send := tr.StartSend(ctx, "out-topic")
			out := &sarama.ProducerMessage{Topic: "out-topic"}
			tr.Inject(sendCtx, out)
			if got := (ProducerCarrier{Msg: out}).Get("traceparent"); got != tt.want {
				t.Errorf("traceparent written %q, want %q", got, tt.want)
			}
			if span.IsRecording() || send.IsRecording() {
				t.Error("a disabled tracer recorded a span")
			}
			End(send, nil)
			End(span, nil)
		})
	}
}

// The send span carries the record's key and correlation_id header once Inject wrote
// its context; the process span carries those of the record it handles.
func TestMessageSpansCarryKeyAndConversationID(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	tr := WithProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
	ctx, send := tr.StartSend(context.Background(), "in-topic")
	out := &sarama.ProducerMessage{Topic: "in-topic", Key: sarama.StringEncoder("client-7"),
		Headers: []sarama.RecordHeader{{Key: []byte("correlation_id"), Value: []byte("req-9")}}}
	tr.Inject(ctx, out)
	End(send, nil)
	rec := &sarama.ConsumerMessage{Topic: "in-topic", Key: []byte("client-7"),
		Headers: []*sarama.RecordHeader{{Key: []byte("correlation_id"), Value: []byte("req-9")}}}
	for _, h := range out.Headers {
		rec.Headers = append(rec.Headers, &sarama.RecordHeader{Key: h.Key, Value: h.Value})
	}
	_, process := tr.StartProcess(context.Background(), rec, "")
	End(process, nil)

	spans := recorder.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want send and process", len(spans))
	}
	for _, s := range spans {
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		if attrs["messaging.kafka.message.key"] != "client-7" || attrs["messaging.message.conversation_id"] != "req-9" {
			t.Errorf("%s: attributes %v, want the key and the correlation ID", s.Name(), attrs)
		}
		if _, ok := attrs["messaging.consumer.group.name"]; ok {
			t.Errorf("%s: a consumer group on a read without one: %v", s.Name(), attrs)
		}
	}
	if spans[1].Parent().SpanID() != spans[0].SpanContext().SpanID() {
		t.Error("the process span is not the child of the send span its record carries")
	}
}

// A span says which pod sent it: service.instance.id, k8s.pod.name and
// k8s.namespace.name from the downward API's POD_NAME and POD_NAMESPACE, a UUID
// outside Kubernetes.
func TestInstanceAttributes(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	got := map[string]string{}
	for _, kv := range instanceAttributes(env(map[string]string{EnvPodName: "gateway-5d-x", EnvPodNamespace: "prod"})) {
		got[string(kv.Key)] = kv.Value.Emit()
	}
	if got["service.instance.id"] != "prod/gateway-5d-x" || got["k8s.pod.name"] != "gateway-5d-x" || got["k8s.namespace.name"] != "prod" {
		t.Errorf("in a pod: %v", got)
	}
	a, b := instanceAttributes(env(nil)), instanceAttributes(env(nil))
	if len(a) != 1 || a[0].Key != "service.instance.id" || len(a[0].Value.Emit()) != 36 || a[0].Value.Emit() == b[0].Value.Emit() {
		t.Errorf("outside Kubernetes: %v and %v, want one UUID per process", a, b)
	}
}

// A failed span says what kind of error ended it, in a few values.
func TestEndSetsErrorType(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("send: %w", sarama.ErrTopicAuthorizationFailed): "kafka.29",
		fmt.Errorf("wait: %w", context.DeadlineExceeded):           "timeout",
		errors.New("boom"): "_OTHER",
	} {
		recorder := tracetest.NewSpanRecorder()
		tr := WithProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
		_, span := tr.StartSend(context.Background(), "out-topic")
		End(span, err)
		got := ""
		for _, kv := range recorder.Ended()[0].Attributes() {
			if kv.Key == "error.type" {
				got = kv.Value.Emit()
			}
		}
		if got != want {
			t.Errorf("%v: error.type %q, want %q", err, got, want)
		}
	}
}

// Every kind of record key the services or a user's code may write reaches the send
// span as the same string.
func TestKeyString(t *testing.T) {
	key := sarama.StringEncoder("order-7")
	var noKey *sarama.StringEncoder
	for _, c := range []struct {
		name string
		key  sarama.Encoder
		want string
	}{
		{"string", sarama.StringEncoder("order-7"), "order-7"},
		{"pointer to string", &key, "order-7"},
		{"bytes", sarama.ByteEncoder("order-7"), "order-7"},
		{"none", nil, ""},
		{"nil pointer", noKey, ""},
	} {
		if got := keyString(c.key); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
