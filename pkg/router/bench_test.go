package router

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/pkg/platform/tracing/tracingbench"
)

// BenchmarkHandleRecord is the router's own work per record of the ping route, through
// the built-in middleware (tracing off): decode the request, call the handler, encode
// the reply and build its message. It replaces BenchmarkNewPending of the engine before
// the router (3 to 4 µs per record, docs/perf/README.md).
func BenchmarkHandleRecord(b *testing.B) {
	rec := pingRecord(b, 0)
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

// BenchmarkHandleRecordOTLP is a record's whole traced path through the worker, short
// of the broker, with tracing set up as in production and exporting by OTLP/HTTP to a
// receiver on loopback that drops each export: the process span continuing the
// record's trace (claimLoop.take), BenchmarkHandleRecord's work, the reply's send span
// with its context written into the reply (aloPartition.start), the broker's offset on
// it, both spans ended (acknowledged, claimLoop.finish). Each record carries a
// traceparent as the gateway writes it, sampled in the share of the variant (100 %,
// 1 in 10, none sampled for off), so the parent-based sampler follows the gateway's
// decision. cpu-µs/op is the process's CPU per record, exports included.
//
//	go test -run '^$' -bench HandleRecordOTLP -benchtime 20000x ./pkg/router/
func BenchmarkHandleRecordOTLP(b *testing.B) {
	const id = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
	body, err := messages.EncodeRequest(messages.NewRequest(id, "Send for in-topic", time.Now()))
	if err != nil {
		b.Fatal(err)
	}
	tracingbench.Run(b, "worker", func(b *testing.B, tr *tracing.Tracing, loop func(op func())) {
		// Ten records, one in ten sampled unless every one is (10 %: the others flag 00).
		sampledEvery := 1
		if strings.Contains(b.Name(), "10%") {
			sampledEvery = 10
		}
		recs := make([]*sarama.ConsumerMessage, 10)
		for i := range recs {
			flags := "00"
			if i%sampledEvery == 0 && tr.Enabled() {
				flags = "01"
			}
			traceparent := fmt.Sprintf("00-%032x-%016x-%s", i+1, i+1, flags)
			var headers []*sarama.RecordHeader
			for _, h := range append(kafka.Headers(id), sarama.RecordHeader{Key: []byte("traceparent"), Value: []byte(traceparent)}) {
				headers = append(headers, &h)
			}
			recs[i] = &sarama.ConsumerMessage{Topic: "in-topic", Partition: 3, Offset: int64(i), Key: []byte(id), Value: body, Headers: headers}
		}
		r := New(Config{Tracing: tr, GroupID: "streamgate-worker"})
		if err := pingRoute(r); err != nil {
			b.Fatal(err)
		}
		rt := r.routes["in-topic"]
		n := 0
		loop(func() {
			rec := recs[n%len(recs)]
			n++
			ctx := startProcess(context.Background(), tr, rec, "streamgate-worker", rt.name)
			t := newTask(ctx, rt, rec)
			t.replyTopic = rt.replyTopic
			t.handle(rt, nil, func() {})
			f := t.fin
			if f == nil || f.DeadLetter() {
				b.Fatal("no reply")
			}
			sendCtx, send := tr.StartSend(f.Ctx, f.Output.Topic)
			tr.Inject(sendCtx, f.Output)
			tracing.Sent(send, 3, int64(n))
			tracing.End(send, nil)
			tracing.End(spanOf(f), nil)
		})
	})
}

// BenchmarkClaimPipeline is the engine's whole path per record of the ping route, short
// of Kafka: a claim reads b.N records, its lane handles them, the at-least-once writer
// sends the replies to a producer that acknowledges each at once, Dispatch hands the
// results back, and the claim marks the offsets. ns/op and allocs/op are the engine's
// cost per record on top of sarama's (hand-overs, wake-ups, bookkeeping), free of a
// broker's noise.
//
//	go test -run '^$' -bench ClaimPipeline -benchtime 200000x ./pkg/router/
func BenchmarkClaimPipeline(b *testing.B) {
	recs := make([]*sarama.ConsumerMessage, b.N)
	for i := range recs {
		recs[i] = pingRecord(b, int64(i))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sess := &countingSession{fakeSession: newFakeSession(ctx), want: int64(b.N), all: make(chan struct{})}
	claim := &fakeClaim{messages: make(chan *sarama.ConsumerMessage, 256)}
	prod := newFakeProducer()
	prod.input = make(chan *sarama.ProducerMessage, 256)
	r := New(Config{})
	if err := pingRoute(r); err != nil {
		b.Fatal(err)
	}
	delivery := r.AtLeastOnce(prod)
	handler, err := r.Handler(delivery)
	if err != nil {
		b.Fatal(err)
	}
	acked := make(chan struct{})
	go func() { // acknowledges every message at once
		defer close(acked)
		for m := range prod.input {
			prod.successes <- m
		}
	}()
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		delivery.Dispatch(prod, nil)
	}()
	claimed := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() { claimed <- handler.ConsumeClaim(sess, claim) }()
	for _, rec := range recs {
		claim.messages <- rec
	}
	select {
	case <-sess.all:
	case <-time.After(time.Minute):
		b.Fatalf("marked %d of %d", sess.marked.Load(), b.N)
	}
	b.StopTimer()
	cancel()
	if err := <-claimed; err != nil {
		b.Fatal(err)
	}
	close(prod.input)
	<-acked
	prod.close()
	<-dispatched
}

// countingSession is a fakeSession that keeps only the last mark and says when it
// reached want.
type countingSession struct {
	*fakeSession
	marked atomic.Int64
	want   int64
	all    chan struct{}
}

func (s *countingSession) MarkOffset(_ string, _ int32, offset int64, _ string) {
	if s.marked.Swap(offset) < s.want && offset >= s.want {
		close(s.all)
	}
}

// pingRecord is a request of the ping flow as the gateway writes it, at offset.
func pingRecord(b *testing.B, offset int64) *sarama.ConsumerMessage {
	const id = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
	body, err := messages.EncodeRequest(messages.NewRequest(id, "Send for in-topic", time.Now()))
	if err != nil {
		b.Fatal(err)
	}
	var headers []*sarama.RecordHeader
	for _, h := range kafka.Headers(id) {
		headers = append(headers, &h)
	}
	return &sarama.ConsumerMessage{Topic: "in-topic", Key: []byte(id), Value: body, Headers: headers, Offset: offset}
}
