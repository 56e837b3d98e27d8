package bench

import (
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/services/worker/ping"
	"github.com/streamgate/streamgate/services/worker/workerapp"
	"github.com/streamgate/streamgate/tests/bench/loadgen"
)

// BenchmarkWorkerLatency measures one hop through the worker at a fixed rate, in both
// delivery modes: b.N requests written to the in-topic one every 5 ms (200/s), each
// timed from its write to its reply seen by a read_committed reader. It isolates the
// worker's share of make bench's end-to-end latency (no gateway, no HTTP), which is
// where exactly-once's transactions cost (docs/exactly-once.md). One request answered
// first tells that the worker joined; it is not timed.
//
// Metrics: p50_ms, p90_ms, p99_ms of the b.N replies.
//
//	STREAMGATE_TEST_KAFKA=127.0.0.1:39092 go test ./bench -run '^$' -bench WorkerLatency -benchtime 1000x
func BenchmarkWorkerLatency(b *testing.B) {
	for _, mode := range []string{workerapp.AtLeastOnce, workerapp.ExactlyOnce} {
		b.Run(mode, func(b *testing.B) { benchmarkWorkerLatency(b, mode) })
	}
}

const latencyGap = 5 * time.Millisecond

func benchmarkWorkerLatency(b *testing.B, mode string) {
	env := os.Getenv("STREAMGATE_TEST_KAFKA")
	if env == "" {
		b.Fatal("STREAMGATE_TEST_KAFKA is not set: this benchmark needs a real broker.")
	}
	brokers := strings.Split(env, ",")
	names := newTopics(b, brokers)
	log, err := logging.New(logging.Options{Level: "info", Format: logging.FormatJSON, Service: "worker", Version: "bench", Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	cfg := workerConfig(brokers, names, "info")
	cfg.Delivery = workerapp.Delivery{Mode: mode}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	replies := newReplyClock()
	readReplies(ctx, b, brokers, names.out, replies)
	producer, err := sarama.NewSyncProducer(brokers, kafka.ProducerConfig("streamgate-bench-latency"))
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()
	stopped := make(chan error, 1)
	go func() { stopped <- workerapp.Run(ctx, cfg, log, ping.Register) }()

	send := func(id string) {
		body, err := messages.EncodeRequest(messages.NewRequest(id, "Send for in-topic", time.Now()))
		if err != nil {
			b.Fatal(err)
		}
		replies.sent(id)
		msg := &sarama.ProducerMessage{Topic: names.in, Key: sarama.StringEncoder(id), Value: sarama.ByteEncoder(body), Headers: kafka.Headers(id)}
		if _, _, err := producer.SendMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
	send("joined")
	if _, ok := replies.wait(1, time.Minute); !ok {
		b.Fatal("no reply within a minute: the worker did not join")
	}

	b.ResetTimer()
	tick := time.NewTicker(latencyGap)
	defer tick.Stop()
	for i := range b.N {
		<-tick.C
		send(correlationID(i))
	}
	latencies, ok := replies.wait(b.N+1, 30*time.Second)
	b.StopTimer()
	cancel()
	if err := <-stopped; err != nil {
		b.Fatalf("worker: %v", err)
	}
	if !ok {
		b.Fatalf("%d of %d replies within 30 s of the last request", len(latencies)-1, b.N)
	}
	latencies = latencies[1:] // the joining request's
	for _, q := range []struct {
		name string
		at   float64
	}{{"p50_ms", 50}, {"p90_ms", 90}, {"p99_ms", 99}} {
		b.ReportMetric(float64(loadgen.Percentile(latencies, q.at).Microseconds())/1000, q.name)
	}
	b.ReportMetric(0, "ns/op") // the run's length is the rate's, not the worker's
}

// replyClock pairs each request's write with its first reply, in reply order.
type replyClock struct {
	mu        sync.Mutex
	sentAt    map[string]time.Time
	latencies []time.Duration
	changed   chan struct{} // a reply came; capacity 1
}

func newReplyClock() *replyClock {
	return &replyClock{sentAt: map[string]time.Time{}, changed: make(chan struct{}, 1)}
}

func (c *replyClock) sent(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sentAt[id] = time.Now()
}

func (c *replyClock) replied(id string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sent, ok := c.sentAt[id]; ok {
		c.latencies = append(c.latencies, at.Sub(sent))
		delete(c.sentAt, id) // a duplicate is not timed again
	}
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// wait returns the latencies once n replies came, or what came within timeout.
func (c *replyClock) wait(n int, timeout time.Duration) ([]time.Duration, bool) {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		got := slices.Clone(c.latencies)
		c.mu.Unlock()
		if len(got) >= n {
			return got, true
		}
		select {
		case <-c.changed:
		case <-deadline:
			return got, false
		}
	}
}

// readReplies reads every partition of topic with read_committed into clock until ctx
// ends.
func readReplies(ctx context.Context, b *testing.B, brokers []string, topic string, clock *replyClock) {
	b.Helper()
	cfg := kafka.ConsumerConfig("streamgate-bench-latency")
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	readPartitions(ctx, b, newConsumer(b, brokers, cfg), topic, func(msg *sarama.ConsumerMessage) {
		clock.replied(string(msg.Key), time.Now())
	})
}
