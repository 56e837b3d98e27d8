package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
	platform "github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/router"
	"github.com/streamgate/streamgate/pkg/router/workerapp"
)

// BenchmarkRouterSlowHandler measures how many records per second the router finishes
// when its handler takes 20 ms (a call to another service), on real Kafka with 3
// partitions and 1,000 keys: one call at a time per partition (ByPartition, the worker
// before the router) against one call at a time per key with 64 calls in flight per
// partition (ByKey), each without failures and with 10 % of the records failing their
// first attempt transiently (retried after 20-40 ms). b.N records are written first,
// then the worker runs in-process (workerapp, the at-least-once delivery) until every
// record is answered; the group must have committed all of them.
//
// Metrics: records/s over the run (joining the group included), steady_records/s from
// the first reply to the last, duplicates (0 expected), handler_calls.
//
// From the tests directory:
//
//	STREAMGATE_TEST_KAFKA=127.0.0.1:39092 go test ./bench -run '^$' -bench RouterSlowHandler -benchtime 3000x
func BenchmarkRouterSlowHandler(b *testing.B) {
	for _, mode := range []struct {
		name        string
		ordering    router.Ordering
		concurrency int
	}{
		{"by-partition", router.ByPartition, 1},
		{"by-key-64", router.ByKey, 64},
	} {
		for _, failPercent := range []int{0, 10} {
			name := fmt.Sprintf("%s/failures=%d%%", mode.name, failPercent)
			b.Run(name, func(b *testing.B) { benchSlowHandler(b, mode.ordering, mode.concurrency, failPercent) })
		}
	}
}

const (
	slowCall = 20 * time.Millisecond
	slowKeys = 1000
)

// benchSlowHandler runs one configuration; failPercent of the records (every
// 100/failPercent-th) fail their first attempt.
func benchSlowHandler(b *testing.B, ordering router.Ordering, concurrency, failPercent int) {
	env := os.Getenv("STREAMGATE_TEST_KAFKA")
	if env == "" {
		b.Fatal("STREAMGATE_TEST_KAFKA is not set: this benchmark needs a real broker.")
	}
	brokers := strings.Split(env, ",")
	n := b.N
	names := newTopics(b, brokers)
	if err := writeKeyed(brokers, names.in, n); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	replies := watchReplies(ctx, b, brokers, names.out, n)

	var calls sync.Map // correlation ID -> attempts, for the failure injection
	var total int64
	var totalMu sync.Mutex
	handler := func(ctx context.Context, m router.Message[messages.SampleReqMsg]) (messages.SampleResMsg, error) {
		totalMu.Lock()
		total++
		totalMu.Unlock()
		select {
		case <-time.After(slowCall):
		case <-ctx.Done():
			return messages.SampleResMsg{}, ctx.Err()
		}
		id := m.Body.CorrelationID
		if i, _ := strconv.Atoi(strings.TrimPrefix(id, "bench-")); failPercent > 0 && i%(100/failPercent) == 0 {
			if _, failedBefore := calls.LoadOrStore(id, true); !failedBefore {
				return messages.SampleResMsg{}, router.Retryable(errors.New("dependency timed out"))
			}
		}
		return messages.NewResponse(id, "done", messages.StatusCompleted, time.Now()), nil
	}
	register := func(r *router.Router, cfg workerapp.Config) error {
		return router.Register(r, router.Route[messages.SampleReqMsg, messages.SampleResMsg]{
			Name: "slow", Topic: cfg.InTopic, ReplyTopic: cfg.OutTopic, DeadLetterTopic: cfg.DLQTopic,
			Request:  router.CodecFuncs(messages.EncodeRequest, messages.DecodeRequest),
			Reply:    router.CodecFuncs(messages.EncodeResponse, messages.DecodeResponse),
			Handler:  handler,
			Ordering: ordering, Concurrency: concurrency,
			Retry: router.Retry{MaxAttempts: 3, MinBackoff: 2 * slowCall, MaxBackoff: 4 * slowCall},
		})
	}
	log, err := logging.New(logging.Options{Level: "warn", Format: logging.FormatJSON, Service: "worker", Version: "bench", Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	cfg := workerapp.Config{
		Common: platform.Common{
			HTTPAddr: "127.0.0.1:0", AppVersion: "bench", KafkaEnabled: true, KafkaBrokers: brokers,
			InTopic: names.in, LogLevel: "warn", LogFormat: logging.FormatJSON, ShutdownTimeout: 15 * time.Second,
		},
		OutTopic: names.out, DLQTopic: names.dlq, GroupID: names.group,
		MetricsAddr: "127.0.0.1:0", StuckThreshold: time.Minute,
	}

	b.ResetTimer()
	began := time.Now()
	workerCtx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	stopped := make(chan error, 1)
	go func() { stopped <- workerapp.Run(workerCtx, cfg, log, register) }()
	timeout := time.Minute + time.Duration(n)*slowCall
	var r result
	select {
	case r = <-replies:
	case err := <-stopped:
		b.Fatalf("worker stopped early: %v", err)
	case <-time.After(timeout):
		b.Fatalf("not every record answered within %v", timeout)
	}
	elapsed := time.Since(began)
	b.StopTimer()
	stopWorker()
	if err := <-stopped; err != nil {
		b.Fatalf("worker: %v", err)
	}
	if committed := committedOffsets(b, brokers, names.group, names.in); committed != int64(n) {
		b.Errorf("group committed %d records, want %d", committed, n)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
	if steady := r.last.Sub(r.first); n > 1 && steady > 0 {
		b.ReportMetric(float64(n-1)/steady.Seconds(), "steady_records/s")
	}
	b.ReportMetric(float64(r.duplicates), "duplicates")
	totalMu.Lock()
	b.ReportMetric(float64(total), "handler_calls")
	totalMu.Unlock()
	b.ReportMetric(0, "ns/op")
}

// writeKeyed writes n valid requests to topic over slowKeys record keys; the i-th
// carries correlation ID bench-i, which its reply is keyed by.
func writeKeyed(brokers []string, topic string, n int) error {
	producer, err := sarama.NewAsyncProducer(brokers, kafka.ProducerConfig("streamgate-bench-keyed"))
	if err != nil {
		return err
	}
	var failed error
	var wg sync.WaitGroup
	wg.Go(func() {
		for range producer.Successes() {
		}
	})
	wg.Go(func() {
		for perr := range producer.Errors() {
			failed = errors.Join(failed, perr.Err)
		}
	})
	now := time.Now()
	for i := range n {
		id := correlationID(i)
		body, err := messages.EncodeRequest(messages.NewRequest(id, "order", now))
		if err != nil {
			failed = errors.Join(failed, err)
			break
		}
		producer.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("key-" + strconv.Itoa(i%slowKeys)),
			Value: sarama.ByteEncoder(body), Headers: kafka.Headers(id)}
	}
	producer.AsyncClose()
	wg.Wait()
	return failed
}
