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
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/router"
	"github.com/streamgate/streamgate/services/worker/workerapp"
	"github.com/streamgate/streamgate/tests/bench/backlog"
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
	now := time.Now()
	if err := backlog.WriteRecords(brokers, n, func(i int) (*sarama.ProducerMessage, error) {
		id := correlationID(i)
		body, err := messages.EncodeRequest(messages.NewRequest(id, "order", now))
		return &sarama.ProducerMessage{Topic: names.in, Key: sarama.StringEncoder("key-" + strconv.Itoa(i%slowKeys)),
			Value: sarama.ByteEncoder(body), Headers: kafka.Headers(id)}, err
	}); err != nil {
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
	drainBacklog(b, drainRun{
		cfg: workerConfig(brokers, names, "warn"), log: log, register: register, replies: replies, n: n,
		timeout: time.Minute + time.Duration(n)*slowCall,
	})
	totalMu.Lock()
	b.ReportMetric(float64(total), "handler_calls")
	totalMu.Unlock()
	b.ReportMetric(0, "ns/op")
}
