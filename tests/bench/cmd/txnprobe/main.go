// Command txnprobe measures what one Kafka transaction costs with the worker's
// transactional producer settings (pkg/platform/kafka/transactional): n transactions of
// one record and one consumed offset each, -gap apart, timing each phase, and how long
// after its commit a read_committed reader sees the record. It is the floor under
// DELIVERY=exactly-once's latency (docs/exactly-once.md). It creates two topics of its
// own and deletes them; it fails if a committed record is not seen exactly once.
//
//	go run ./tests/bench/cmd/txnprobe -kafka 127.0.0.1:9092 -n 300 -gap 5ms
//
// With -policies it compares ways of writing records that arrive -gap apart instead
// (policies.go): without a transaction, the worker's one transactional producer with a
// -window, and two transactional producers in turn.
//
//	go run ./tests/bench/cmd/txnprobe -kafka 127.0.0.1:9092 -policies -n 1000 -rounds 3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
)

func main() {
	brokers := flag.String("kafka", "", "broker host:port (required)")
	n := flag.Int("n", 300, "transactions (at most 10,000)")
	gap := flag.Duration("gap", 5*time.Millisecond, "pause between a commit and the next transaction")
	timeout := flag.Duration("timeout", 2*time.Minute, "bound on the whole run")
	comparing := flag.Bool("policies", false, "compare ways of writing records that arrive -gap apart (n per round and way) instead")
	rounds := flag.Int("rounds", 3, "with -policies: rounds, each running every way once (at most 10)")
	window := flag.Duration("window", 5*time.Millisecond, "with -policies: how long the one transactional producer's transaction takes arrivals (TRANSACTION_MAX_WAIT)")
	flag.Parse()
	if *brokers == "" || *n < 1 || *n > 10_000 || *rounds < 1 || *rounds > 10 {
		fmt.Fprintln(os.Stderr, "txnprobe: -kafka is required, -n must be from 1 to 10,000 and -rounds from 1 to 10")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	probe := func(ctx context.Context, r *probeSetup) error { return probePhases(ctx, r, *n, *gap) }
	if *comparing {
		probe = func(ctx context.Context, r *probeSetup) error {
			return comparePolicies(ctx, r, openLoad{n: *n, rounds: *rounds, gap: *gap, window: *window})
		}
	}
	if err := run(ctx, []string{*brokers}, probe); err != nil {
		fmt.Fprintln(os.Stderr, "txnprobe:", err)
		os.Exit(1)
	}
}

// phases are each transaction's timings.
type phases struct {
	send, commit, total, visible []time.Duration
}

// run creates the topics and the read_committed reader of the out-topic, then probes.
func run(ctx context.Context, brokers []string, probe func(context.Context, *probeSetup) error) error {
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	in, out := "txnprobe-in-"+suffix, "txnprobe-out-"+suffix
	admin, err := sarama.NewClusterAdmin(brokers, kafka.ProducerConfig("txnprobe-admin"))
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer func() { _ = admin.Close() }()
	for _, topic := range []string{in, out} {
		if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
			return fmt.Errorf("create %s: %w", topic, err)
		}
		defer func() { _ = admin.DeleteTopic(topic) }()
	}

	seen := newSightings()
	consumer, err := sarama.NewConsumer(brokers, readCommitted())
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer func() { _ = consumer.Close() }()
	var readers sync.WaitGroup
	defer readers.Wait()
	for p := range int32(3) {
		pc, err := consumeNew(ctx, consumer, out, p)
		if err != nil {
			return err
		}
		defer func() { _ = pc.Close() }()
		readers.Go(func() {
			for m := range pc.Messages() {
				seen.note(string(m.Key))
			}
		})
	}

	return probe(ctx, &probeSetup{brokers: brokers, out: out, in: in, group: "txnprobe-" + suffix, suffix: suffix, seen: seen})
}

// probePhases times n transactions of one record each, gap apart, phase by phase.
func probePhases(ctx context.Context, r *probeSetup, n int, gap time.Duration) error {
	cfg := transactional.Config(kafka.ProducerConfig("txnprobe"), "txnprobe-"+r.suffix)
	producer, err := sarama.NewAsyncProducer(r.brokers, cfg)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	defer func() { _ = producer.Close() }()

	var got phases
	committed := map[string]time.Time{}
	for i := range n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		key := strconv.Itoa(i)
		start := time.Now()
		if err := producer.BeginTxn(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		producer.Input() <- r.message(key)
		select {
		case <-producer.Successes():
		case perr := <-producer.Errors():
			return fmt.Errorf("send: %w", perr.Err)
		}
		sent := time.Now()
		if err := commit(producer, r.nextOffsets(), r.group); err != nil {
			return err
		}
		done := time.Now()
		committed[key] = done
		got.send = append(got.send, sent.Sub(start))
		got.commit = append(got.commit, done.Sub(sent))
		got.total = append(got.total, done.Sub(start))
		time.Sleep(gap)
	}

	deadline := time.Now().Add(10 * time.Second)
	for r.seen.count() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for key, at := range committed {
		first, times := r.seen.of(key)
		if times != 1 {
			return fmt.Errorf("record %s seen %d times by the read_committed reader, want once", key, times)
		}
		got.visible = append(got.visible, first.Sub(at))
	}
	fmt.Printf("%d transactions of one record, %v apart (transactional producer settings of the worker)\n\n", n, gap)
	fmt.Println("| phase | p50 ms | p90 ms | p99 ms |")
	fmt.Println("| --- | --- | --- | --- |")
	for _, row := range []struct {
		name string
		d    []time.Duration
	}{
		{"begin, send, acknowledged (AddPartitionsToTxn, Produce)", got.send},
		{"commit (AddOffsetsToTxn, TxnOffsetCommit, EndTxn)", got.commit},
		{"the whole transaction", got.total},
		{"commit returned → seen by a read_committed reader", got.visible},
	} {
		fmt.Printf("| %s | %.2f | %.2f | %.2f |\n", row.name, quantile(row.d, 0.5), quantile(row.d, 0.9), quantile(row.d, 0.99))
	}
	return nil
}

// consumeNew reads partition p of a topic just created, retrying while its leader does
// not serve it yet.
func consumeNew(ctx context.Context, consumer sarama.Consumer, topic string, p int32) (sarama.PartitionConsumer, error) {
	for {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err == nil {
			return pc, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("consume %s/%d: %w", topic, p, errors.Join(err, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func readCommitted() *sarama.Config {
	cfg := kafka.ConsumerGroupConfig("txnprobe-reader")
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	return cfg
}

// sightings are when each key was first read, and how often.
type sightings struct {
	mu    sync.Mutex
	first map[string]time.Time
	times map[string]int
}

func newSightings() *sightings {
	return &sightings{first: map[string]time.Time{}, times: map[string]int{}}
}

func (s *sightings) note(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.times[key] == 0 {
		s.first[key] = time.Now()
	}
	s.times[key]++
}

func (s *sightings) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.first)
}

func (s *sightings) of(key string) (time.Time, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first[key], s.times[key]
}

func quantile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	sorted := slices.Clone(d)
	slices.Sort(sorted)
	return float64(sorted[int(q*float64(len(sorted)-1))].Microseconds()) / 1000
}
