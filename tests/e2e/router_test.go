package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"

	platform "github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/router"
	"github.com/streamgate/streamgate/services/worker/workerapp"
	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// The router on the real broker, with a route of its own run in-process by the worker
// runner: 600 records over 30 keys handled 16 at a time per partition (ByKey). Every
// key's records are handled in offset order, checked for every key; the records of one
// key fail twice each and are retried while the other keys flow; a permanent failure is
// dead-lettered with its reason; every other record is answered once and committed.
func TestRouterKeyOrderRetriesAndDeadLettersOnKafka(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	const records, keys = 600, 30

	var mu sync.Mutex
	handled := map[string][]int64{} // key -> offsets, in call order (successful calls)
	attempts := map[int64]int{}
	running := map[string]bool{}
	overlap := false
	inFlight, peak := 0, 0
	handler := func(_ context.Context, m router.Message[string]) (string, error) {
		key := string(m.Key)
		mu.Lock()
		if running[key] {
			overlap = true
		}
		running[key] = true
		attempts[m.Offset]++
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(time.Duration(len(m.Body)%5) * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		running[key] = false
		inFlight--
		switch {
		case strings.HasPrefix(m.Body, "poison"):
			return "", router.Permanent(errors.New("poison record"))
		case key == "flaky" && m.Attempt < 3:
			return "", errors.New("dependency unavailable")
		}
		handled[key] = append(handled[key], m.Offset)
		return "done " + m.Body, nil
	}
	register := func(r *router.Router, cfg workerapp.Config) error {
		return router.Register(r, router.Route[string, string]{
			Name: "orders", Topic: cfg.InTopic, ReplyTopic: cfg.OutTopic, DeadLetterTopic: cfg.DLQTopic,
			Request: router.CodecFuncs(func(s string) ([]byte, error) { return []byte(s), nil }, func(b []byte) (string, error) { return string(b), nil }),
			Reply:   router.CodecFuncs(func(s string) ([]byte, error) { return []byte(s), nil }, func(b []byte) (string, error) { return string(b), nil }),
			Handler: handler, Concurrency: 16,
			Retry: router.Retry{MaxAttempts: 3, MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
		})
	}

	// One partition, so that all records share it and their keys interleave.
	var msgs []*sarama.ProducerMessage
	for i := range records {
		key, body := fmt.Sprintf("key-%02d", i%keys), fmt.Sprintf("rec-%03d", i)
		switch i % keys {
		case 0:
			key = "flaky"
		case 1:
			if i == 1 {
				body = "poison-1"
			}
		}
		msgs = append(msgs, &sarama.ProducerMessage{Topic: tp.in, Partition: 0, Key: sarama.StringEncoder(key), Value: sarama.StringEncoder(body)})
	}
	cfg := clientConfig(suite.brokers)
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	producer, err := sarama.NewSyncProducer(strings.Split(suite.brokers, ","), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := producer.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	producer.Close()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stopped := make(chan error, 1)
	go func() {
		stopped <- workerapp.Run(ctx, workerapp.Config{
			Common: platform.Common{
				HTTPAddr: "127.0.0.1:0", AppVersion: "e2e", KafkaEnabled: true, KafkaBrokers: []string{suite.brokers},
				InTopic: tp.in, LogLevel: "warn", LogFormat: "json", ShutdownTimeout: 10 * time.Second,
			},
			OutTopic: tp.out, DLQTopic: tp.dlq, GroupID: tp.group, MetricsAddr: "off", StuckThreshold: time.Minute,
		}, zap.NewNop(), register)
	}()

	replies := readUntil(t, suite.brokers, tp.out, 90*time.Second, func(seen []*sarama.ConsumerMessage) bool { return len(seen) >= records-1 })
	dead := readUntil(t, suite.brokers, tp.dlq, 30*time.Second, func(seen []*sarama.ConsumerMessage) bool { return len(seen) >= 1 })
	waitFor(t, 30*time.Second, "every record committed", func() error {
		if got := committedOffset(t, tp, 0); got != records {
			return fmt.Errorf("committed %d of %d", got, records)
		}
		return nil
	})
	cancel()
	if err := <-stopped; err != nil {
		t.Fatalf("worker: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if overlap {
		t.Error("two calls of one key ran at the same time")
	}
	if peak < 2 || peak > 16 {
		t.Errorf("at most %d calls at once, want 2..16", peak)
	}
	checked := 0
	for key, offsets := range handled {
		for i := 1; i < len(offsets); i++ {
			if offsets[i] <= offsets[i-1] {
				t.Errorf("key %s handled out of offset order: %v", key, offsets)
				break
			}
		}
		checked += len(offsets)
	}
	if checked != records-1 || len(replies) != records-1 {
		t.Errorf("%d records handled, %d replies; want %d each", checked, len(replies), records-1)
	}
	for offset, n := range attempts {
		if want := map[bool]int{true: 3, false: 1}[offset%keys == 0]; n != want {
			t.Errorf("offset %d: %d attempts, want %d", offset, n, want)
			break
		}
	}
	if len(dead) != 1 || testkit.Header(dead[0], "dlq_original_offset") != "1" || !strings.Contains(testkit.Header(dead[0], "dlq_error"), "poison record") {
		t.Errorf("dead letters %d, first %q; want the poison record's", len(dead), testkit.Header(dead[0], "dlq_error"))
	}
	t.Logf("%d keys, %d records handled in order per key, up to %d calls at once, %d flaky records retried twice, 1 dead letter",
		len(handled), checked, peak, records/keys)
}
