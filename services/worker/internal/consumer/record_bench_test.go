package consumer

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

// BenchmarkNewPending is the worker's own work per record: decode the request, build
// and encode the reply, start its spans (tracing off). The drain profile puts it at a
// third of the worker's CPU (make bench, worker-profile.txt).
func BenchmarkNewPending(b *testing.B) {
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
	h, err := New(Options{OutTopic: "out-topic", DLQTopic: "in-topic.dlq", Producer: nopProducer{}, Log: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	results := make(chan *pending, 1)
	b.ReportAllocs()
	for b.Loop() {
		if p := newPending(rec, &h.opts, results); p.deadLetter() {
			b.Fatal(p.reason)
		}
	}
}

type nopProducer struct{}

func (nopProducer) Input() chan<- *sarama.ProducerMessage { return nil }
