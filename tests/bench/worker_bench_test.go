// Package bench measures the services against a real Kafka broker.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	platform "github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/services/worker/ping"
	"github.com/streamgate/streamgate/services/worker/workerapp"
	"github.com/streamgate/streamgate/tests/bench/backlog"
	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// partitions is what the broker gives auto-created topics in tests (num.partitions in
// scripts/kafka/kafka.sh): one claim, so one pipeline, per partition.
const partitions = 3

// BenchmarkWorker measures how many requests per second the worker answers end to end:
// b.N valid requests are written to a fresh in-topic first, then the real worker runs
// in-process (consumer group, async producer, in-order marking, JSON logs to
// io.Discard) until all b.N replies are on the out-topic. It then checks that the
// group committed every request.
//
// Metrics: records/s over the whole run, including joining the group;
// steady_records/s from the first reply to the last; duplicates, replies beyond one per
// request (0 expected: nothing fails here); prefill_records/s, how fast a producer
// alone wrote the requests to the same broker, for scale.
//
// From the tests directory:
//
//	STREAMGATE_TEST_KAFKA=127.0.0.1:39092 go test ./bench -run '^$' -bench Worker -benchtime 200000x
func BenchmarkWorker(b *testing.B) {
	benchmarkWorker(b, workerapp.Delivery{})
}

// BenchmarkWorkerExactlyOnce is BenchmarkWorker with DELIVERY=exactly-once, with the
// default transaction settings (8,000 records, 5 ms), with the defaults before them
// (2,000 / 5 ms) and with the cheaper 500 / 100 ms;
// replies are counted with read_committed.
//
//	STREAMGATE_TEST_KAFKA=127.0.0.1:39092 go test ./bench -run '^$' -bench 'Worker(ExactlyOnce)?$' -benchtime 200000x
func BenchmarkWorkerExactlyOnce(b *testing.B) {
	for _, d := range []workerapp.Delivery{
		{Mode: workerapp.ExactlyOnce},
		{Mode: workerapp.ExactlyOnce, MaxRecords: 2000, MaxWait: 5 * time.Millisecond},
		{Mode: workerapp.ExactlyOnce, MaxRecords: 500, MaxWait: 100 * time.Millisecond},
	} {
		name := "default"
		if d.MaxRecords > 0 {
			name = fmt.Sprintf("%dx%v", d.MaxRecords, d.MaxWait)
		}
		b.Run(name, func(b *testing.B) { benchmarkWorker(b, d) })
	}
}

func benchmarkWorker(b *testing.B, delivery workerapp.Delivery) {
	env := os.Getenv("STREAMGATE_TEST_KAFKA")
	if env == "" {
		b.Fatal("STREAMGATE_TEST_KAFKA is not set: this benchmark needs a real broker. " +
			"Start one with scripts/kafka/kafka.sh start and set STREAMGATE_TEST_KAFKA to the address it prints.")
	}
	brokers := strings.Split(env, ",")
	n := b.N

	names := newTopics(b, brokers)
	prefillBegan := time.Now()
	prefill(b, brokers, names.in, n)
	prefillRate := float64(n) / time.Since(prefillBegan).Seconds()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	replies := watchReplies(ctx, b, brokers, names.out, n)

	// The worker's JSON lines are encoded as in production but dropped; warnings and
	// errors also go to the benchmark's log, to explain a failed run.
	log, err := logging.New(logging.Options{Level: "info", Format: logging.FormatJSON, Service: "worker", Version: "bench", Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	log = log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, zaptest.NewLogger(b, zaptest.Level(zap.WarnLevel)).Core())
	}))
	cfg := workerConfig(brokers, names, "info")
	cfg.Delivery = delivery
	drainBacklog(b, drainRun{
		cfg: cfg, log: log, register: ping.Register, replies: replies, n: n,
		timeout: time.Minute + time.Duration(n)*time.Millisecond,
	})
	// What the same broker takes from a producer alone, for scale.
	b.ReportMetric(prefillRate, "prefill_records/s")
	b.ReportMetric(0, "ns/op") // per-record time is records/s's inverse; ns/op over a run misleads
}

// workerConfig is the worker's configuration on names, with its servers on free ports.
func workerConfig(brokers []string, names topics, logLevel string) workerapp.Config {
	return workerapp.Config{
		Common: platform.Common{
			HTTPAddr:        "127.0.0.1:0",
			AppVersion:      "bench",
			KafkaEnabled:    true,
			KafkaBrokers:    brokers,
			InTopic:         names.in,
			LogLevel:        logLevel,
			LogFormat:       logging.FormatJSON,
			ShutdownTimeout: 15 * time.Second,
		},
		OutTopic: names.out,
		DLQTopic: names.dlq,
		GroupID:  names.group,

		MetricsAddr:    "127.0.0.1:0",
		StuckThreshold: time.Minute,
	}
}

// drainRun is one run of the worker over a backlog of n records.
type drainRun struct {
	cfg      workerapp.Config
	log      *zap.Logger
	register workerapp.Register
	replies  <-chan result // one result once every record has a reply
	n        int
	timeout  time.Duration
}

// drainBacklog times the worker from its start to the last reply (the benchmark's
// timer), stops it, checks that its group committed every record, and reports
// records/s, steady_records/s (first reply to last) and duplicates.
func drainBacklog(b *testing.B, d drainRun) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	began := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- workerapp.Run(ctx, d.cfg, d.log, d.register) }()
	var r result
	select {
	case r = <-d.replies:
	case err := <-stopped:
		b.Fatalf("worker stopped early: %v", err)
	case <-time.After(d.timeout):
		b.Fatalf("not every record answered within %v", d.timeout)
	}
	elapsed := time.Since(began)
	b.StopTimer()

	cancel()
	if err := <-stopped; err != nil {
		b.Fatalf("worker: %v", err)
	}
	if committed := committedOffsets(b, d.cfg.KafkaBrokers, d.cfg.GroupID, d.cfg.InTopic); committed != int64(d.n) {
		b.Errorf("group committed %d records, want %d", committed, d.n)
	}
	b.ReportMetric(float64(d.n)/elapsed.Seconds(), "records/s")
	if steady := r.last.Sub(r.first); d.n > 1 && steady > 0 {
		b.ReportMetric(float64(d.n-1)/steady.Seconds(), "steady_records/s")
	}
	// Counted on the out-topic read to its high-water mark, not by the live
	// watcher, which stops at the last first reply.
	b.ReportMetric(float64(duplicatesToHighWater(b, d.cfg.KafkaBrokers, d.cfg.OutTopic, d.n)), "duplicates")
}

type topics struct{ in, out, dlq, group string }

// newTopics creates fresh topics (deleted again at the end) and a fresh group name, so
// that runs neither see each other's records nor resume each other's offsets.
func newTopics(b *testing.B, brokers []string) topics {
	b.Helper()
	var raw [4]byte
	_, _ = rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	t := topics{
		in:    "bench-in-" + id,
		out:   "bench-out-" + id,
		dlq:   "bench-in-" + id + ".dlq",
		group: "bench-worker-" + id,
	}
	client, err := sarama.NewClient(brokers, kafka.ConsumerGroupConfig("streamgate-bench-topics"))
	if err != nil {
		b.Fatalf("connect to %v: %v", brokers, err)
	}
	defer client.Close()
	if err := testkit.CreateTopics(b.Context(), client, sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, t.in, t.out, t.dlq); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		admin := newAdmin(b, brokers)
		defer admin.Close()
		for _, name := range []string{t.in, t.out, t.dlq} {
			if err := admin.DeleteTopic(name); err != nil {
				b.Logf("delete topic %s: %v", name, err)
			}
		}
		_ = admin.DeleteConsumerGroup(t.group)
	})
	return t
}

func newAdmin(b *testing.B, brokers []string) sarama.ClusterAdmin {
	b.Helper()
	admin, err := sarama.NewClusterAdmin(brokers, kafka.ConsumerGroupConfig("streamgate-bench-admin"))
	if err != nil {
		b.Fatalf("connect to %v: %v", brokers, err)
	}
	return admin
}

// prefill writes n valid requests to topic and waits until the broker has them all.
func prefill(b *testing.B, brokers []string, topic string, n int) {
	b.Helper()
	if err := backlog.Write(brokers, topic, n, correlationID); err != nil {
		b.Fatal(err)
	}
}

func correlationID(i int) string { return "bench-" + strconv.Itoa(i) }

type result struct {
	first, last time.Time
}

// watchReplies reads every partition of topic from the start and reports once each of
// the n requests has a reply there.
func watchReplies(ctx context.Context, b *testing.B, brokers []string, topic string, n int) <-chan result {
	b.Helper()
	cfg := kafka.ConsumerGroupConfig("streamgate-bench-watch")
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted // a reply counts once its transaction (if any) commits
	merged := make(chan *sarama.ConsumerMessage, 1024)
	readPartitions(ctx, b, newConsumer(b, brokers, cfg), topic, func(msg *sarama.ConsumerMessage) {
		select {
		case merged <- msg:
		case <-ctx.Done():
		}
	})

	done := make(chan result, 1)
	go func() {
		seen := make([]bool, n)
		var r result
		remaining := n
		for remaining > 0 {
			var msg *sarama.ConsumerMessage
			select {
			case msg = <-merged:
			case <-ctx.Done():
				return
			}
			i, err := strconv.Atoi(strings.TrimPrefix(string(msg.Key), "bench-"))
			if err != nil || i < 0 || i >= n {
				panic(fmt.Sprintf("reply with unexpected key %q", msg.Key)) // a broken worker, not a flaky run
			}
			now := time.Now()
			if r.first.IsZero() {
				r.first = now
			}
			if seen[i] {
				continue // counted at the end, on the whole topic
			}
			seen[i] = true
			remaining--
			r.last = now
		}
		done <- r
	}()
	return done
}

// duplicatesToHighWater reads topic to its high-water mark and returns how many
// replies to the n requests there are beyond one each.
func duplicatesToHighWater(b *testing.B, brokers []string, topic string, n int) int {
	b.Helper()
	client, err := sarama.NewClient(brokers, kafka.ConsumerConfig("streamgate-bench-count"))
	if err != nil {
		b.Fatalf("connect to %v: %v", brokers, err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	counts, err := testkit.ReplyCounts(ctx, client, topic)
	if err != nil {
		b.Fatalf("read %s to its high-water mark: %v", topic, err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = correlationID(i)
	}
	return testkit.Duplicates(counts, ids)
}

// committedOffsets returns the sum of the group's committed offsets on topic: on a
// fresh topic, the number of records it finished.
func committedOffsets(b *testing.B, brokers []string, group, topic string) int64 {
	b.Helper()
	admin := newAdmin(b, brokers)
	defer admin.Close()
	ps := make([]int32, partitions)
	for i := range ps {
		ps[i] = int32(i)
	}
	resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: ps})
	if err != nil {
		b.Fatalf("committed offsets of %s: %v", group, err)
	}
	var sum int64
	for _, block := range resp.Blocks[topic] {
		if block.Offset > 0 {
			sum += block.Offset
		}
	}
	return sum
}

func newConsumer(b *testing.B, brokers []string, cfg *sarama.Config) sarama.Consumer {
	b.Helper()
	consumer, err := sarama.NewConsumer(brokers, cfg)
	if err != nil {
		b.Fatalf("consumer: %v", err)
	}
	return consumer
}

// readPartitions hands every record of topic's partitions, from the oldest, to handle
// (one goroutine per partition) until ctx ends; the benchmark's cleanup waits for them,
// then closes consumer.
func readPartitions(ctx context.Context, b *testing.B, consumer sarama.Consumer, topic string, handle func(*sarama.ConsumerMessage)) {
	b.Helper()
	var wg sync.WaitGroup
	var readers []sarama.PartitionConsumer
	b.Cleanup(func() { // after the benchmark ended ctx
		wg.Wait()
		for _, pc := range readers {
			_ = pc.Close()
		}
		_ = consumer.Close()
	})
	for p := range int32(partitions) {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			b.Fatalf("read %s/%d: %v", topic, p, err)
		}
		readers = append(readers, pc)
		wg.Go(func() {
			for {
				select {
				case msg, ok := <-pc.Messages():
					if !ok {
						return
					}
					handle(msg)
				case <-ctx.Done():
					return
				}
			}
		})
	}
}
