package router

import (
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

// BenchmarkHandleRecord is the router's own work per record of the ping route, through
// the built-in middleware (tracing off): decode the request, call the handler, encode
// the reply and build its message. It replaces BenchmarkNewPending of the engine before
// the router (3 to 4 µs per record, docs/perf/README.md).
func BenchmarkHandleRecord(b *testing.B) {
	const id = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
	body, err := messages.EncodeRequest(messages.NewRequest(id, "Send for in-topic", time.Now()))
	if err != nil {
		b.Fatal(err)
	}
	var headers []*sarama.RecordHeader
	for _, h := range kafka.Headers(id) {
		headers = append(headers, &h)
	}
	rec := &sarama.ConsumerMessage{Topic: "in-topic", Key: []byte(id), Value: body, Headers: headers}
	r := New(Config{})
	if err := pingRoute(r); err != nil {
		b.Fatal(err)
	}
	rt := r.routes["in-topic"]
	b.ReportAllocs()
	for b.Loop() {
		t := newTask(context.Background(), rt, rec)
		t.replyTopic = rt.replyTopic
		t.handle(rt, nil, func() {})
		if t.fin == nil || t.fin.DeadLetter() {
			b.Fatal("no reply")
		}
	}
}
