package tracing

import (
	"context"
	"testing"

	"github.com/IBM/sarama"
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
