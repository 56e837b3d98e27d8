package testkit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

var brokers []string

// TestMain uses the broker at STREAMGATE_TEST_KAFKA, or starts one.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if addr := os.Getenv("STREAMGATE_TEST_KAFKA"); addr != "" {
		brokers = strings.Split(addr, ",")
		return m.Run()
	}
	k, err := StartKafka("../../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testkit:", err)
		return 1
	}
	defer k.Clean()
	brokers = []string{k.Addr}
	return m.Run()
}

func newClient(t *testing.T) sarama.Client {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	patientProducer(cfg)
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func newTopic(t *testing.T, client sarama.Client, partitions int32) string {
	t.Helper()
	topic := fmt.Sprintf("testkit-%s-%06d", strings.ToLower(t.Name()), rand.IntN(1_000_000))
	if err := CreateTopics(t.Context(), client, sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, topic); err != nil {
		t.Fatal(err)
	}
	return topic
}

// Every record written before the call comes back, duplicates included,
// with its headers, in offset order per partition.
func TestReadToHighWaterReadsEveryRecord(t *testing.T) {
	client := newClient(t)
	topic := newTopic(t, client, 3)
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	const n = 300
	for i := range n + 1 {
		id := fmt.Sprintf("id-%d", i%n) // id-0 twice, the second time last
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(id), Value: sarama.StringEncoder("v"),
			Headers: []sarama.RecordHeader{{Key: []byte("correlation_id"), Value: []byte(id)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	records, err := ReadToHighWater(ctx, client, topic, sarama.ReadCommitted)
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != n+1 {
		t.Fatalf("%d records, want %d", len(records), n+1)
	}
	seen := map[string]int{}
	last := map[int32]int64{0: -1, 1: -1, 2: -1}
	for _, r := range records {
		seen[Header(r, "correlation_id")]++
		if r.Offset <= last[r.Partition] {
			t.Fatalf("%s/%d: offset %d after %d", topic, r.Partition, r.Offset, last[r.Partition])
		}
		last[r.Partition] = r.Offset
	}
	if seen["id-0"] != 2 || len(seen) != n {
		t.Fatalf("id-0 seen %d times, %d distinct IDs; want 2 and %d", seen["id-0"], len(seen), n)
	}
	if hwm, err := HighWaterMarks(client, topic); err != nil || hwm != n+1 {
		t.Fatalf("high-water marks %d (%v), want %d", hwm, err, n+1)
	}
}

// A partition ending in an aborted transaction and its marker is read to its
// end: read_committed returns the committed records only, read_uncommitted
// every data record.
func TestReadToHighWaterAfterAbortedTransaction(t *testing.T) {
	client := newClient(t)
	topic := newTopic(t, client, 1)
	producer := transactionalProducer(t, topic+"-txn")
	send := func(value string, commit bool) {
		t.Helper()
		if err := producer.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(value)}); err != nil {
				t.Fatal(err)
			}
		}
		end := producer.AbortTxn
		if commit {
			end = producer.CommitTxn
		}
		if err := end(); err != nil {
			t.Fatal(err)
		}
	}
	send("committed", true)
	send("aborted", false)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	committed, err := ReadToHighWater(ctx, client, topic, sarama.ReadCommitted)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(committed); got != "committed committed" {
		t.Errorf("read_committed: %q, want the committed pair only", got)
	}
	all, err := ReadToHighWater(ctx, client, topic, sarama.ReadUncommitted)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(all); got != "committed committed aborted aborted" {
		t.Errorf("read_uncommitted: %q, want all four data records", got)
	}
}

// An open transaction keeps read_committed short of the high-water mark:
// the read ends with ctx and says so.
func TestReadToHighWaterOpenTransaction(t *testing.T) {
	client := newClient(t)
	topic := newTopic(t, client, 1)
	producer := transactionalProducer(t, topic+"-txn")
	if err := producer.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("open")}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = producer.AbortTxn() }()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	records, err := ReadToHighWater(ctx, client, topic, sarama.ReadCommitted)
	if !errors.Is(err, context.DeadlineExceeded) || len(records) != 0 {
		t.Fatalf("got %d records and %v, want none and the deadline", len(records), err)
	}
}

// transactionalProducer is a producer with the transactional ID id, closed
// when the test ends.
func transactionalProducer(t *testing.T, id string) sarama.SyncProducer {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Producer.Transaction.ID = id
	cfg.Net.MaxOpenRequests = 1
	patientProducer(cfg)
	producer, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = producer.Close() })
	return producer
}

// patientProducer retries a send for up to 3 s: on a broker started under load a
// partition can be in the metadata, even writable, before its leader serves it
// (NOT_LEADER), which sarama's 3 retries did not always outlast in CI.
func patientProducer(cfg *sarama.Config) {
	cfg.Producer.Retry.Max = 30
	cfg.Producer.Retry.Backoff = 100 * time.Millisecond
}

func values(records []*sarama.ConsumerMessage) string {
	var vs []string
	for _, r := range records {
		vs = append(vs, string(r.Value))
	}
	return strings.Join(vs, " ")
}

func TestPollReturnsTheLastError(t *testing.T) {
	calls := 0
	err := Poll(t.Context(), 300*time.Millisecond, 50*time.Millisecond, func() error {
		calls++
		return fmt.Errorf("attempt %d", calls)
	})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("attempt %d", calls)) || calls < 2 {
		t.Fatalf("Poll: %v after %d calls, want the last attempt's error", err, calls)
	}
	if err := Poll(t.Context(), time.Second, time.Millisecond, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestFreePortRun(t *testing.T) {
	first, err := FreePortRun(3)
	if err != nil {
		t.Fatal(err)
	}
	if first <= 0 || first+2 > 65535 {
		t.Fatalf("port run starts at %d", first)
	}
}
