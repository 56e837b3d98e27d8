package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// readyLine is the line run prints once the broker accepts connections.
var readyLine = regexp.MustCompile(`^devbroker: Kafka \(kfake, in-memory\) listening on (\S+), topics in-topic,out-topic,in-topic\.dlq,in-topic\.replies,orders,orders\.results,orders\.dlq\n$`)

// TestRunServesSaramaConsumerGroup starts the command as `make run` would
// and checks, for each Kafka protocol version the services may pin, that a
// sarama producer and ConsumerGroup work against it: the record arrives
// intact through a group join and its offset commit is stored. It then
// checks that cancelling the context shuts the broker down.
func TestRunServesSaramaConsumerGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-partitions", "2"}, stdoutW, io.Discard)
		stdoutW.Close()
	}()
	addr := waitReady(t, stdout, done)

	assertTopics(t, addr, defaultTopics, 2)
	for _, version := range []sarama.KafkaVersion{sarama.V2_1_0_0, sarama.V3_6_0_0, sarama.MaxVersion} {
		t.Run(version.String(), func(t *testing.T) {
			produceAndConsume(t, addr, version)
		})
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s of cancel")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("broker still accepts connections on %s after shutdown", addr)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	err := run(t.Context(), []string{"-partitions", "0"}, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run with -partitions 0 returned nil, want an error")
	}
}

func TestRunReportsBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	err = run(t.Context(), []string{"-addr", ln.Addr().String()}, io.Discard, io.Discard)
	if err == nil {
		t.Fatalf("run on busy %s returned nil, want an error", ln.Addr())
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("run error = %v, want one wrapping EADDRINUSE", err)
	}
}

// waitReady reads run's startup line and returns the address it names.
func waitReady(t *testing.T, stdout io.Reader, done <-chan error) string {
	t.Helper()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		m := readyLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("startup line = %q, want one matching %v", line, readyLine)
		}
		return m[1]
	case err := <-done:
		t.Fatalf("run returned %v before it was ready", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no startup line within 10s")
	}
	return ""
}

// produceAndConsume sends one record to in-topic and reads it back through
// a consumer group, speaking the given protocol version.
func produceAndConsume(t *testing.T, addr string, version sarama.KafkaVersion) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	cfg := sarama.NewConfig()
	cfg.Version = version
	cfg.Producer.Return.Successes = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest

	key := "key-" + version.String() // earlier subtests' records are skipped by key
	producer, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("NewSyncProducer: %v", err)
	}
	defer producer.Close()
	partition, offset, err := producer.SendMessage(&sarama.ProducerMessage{
		Topic:   "in-topic",
		Key:     sarama.StringEncoder(key),
		Value:   sarama.StringEncoder(`{"correlation_id":"` + key + `"}`),
		Headers: []sarama.RecordHeader{{Key: []byte("correlation_id"), Value: []byte(key)}},
	})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}

	groupID := "devbroker-test-" + version.String()
	group, err := sarama.NewConsumerGroup([]string{addr}, groupID, cfg)
	if err != nil {
		t.Fatalf("NewConsumerGroup: %v", err)
	}
	handler := &firstMatch{key: key, found: make(chan *sarama.ConsumerMessage, 1)}
	consumed := make(chan error, 1)
	go func() {
		// Consume returns at every rebalance; rejoin until cancelled.
		for ctx.Err() == nil {
			if err := group.Consume(ctx, []string{"in-topic"}, handler); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				consumed <- err
				return
			}
		}
		consumed <- nil
	}()

	var msg *sarama.ConsumerMessage
	select {
	case msg = <-handler.found:
	case err := <-consumed:
		t.Fatalf("Consume: %v", err)
	case <-ctx.Done():
		t.Fatal("record not consumed through the group within 60s")
	}
	if msg.Partition != partition || msg.Offset != offset || string(msg.Value) != `{"correlation_id":"`+key+`"}` {
		t.Errorf("consumed %s/%d@%d %q, want partition %d offset %d", msg.Topic, msg.Partition, msg.Offset, msg.Value, partition, offset)
	}
	if len(msg.Headers) != 1 || string(msg.Headers[0].Key) != "correlation_id" || string(msg.Headers[0].Value) != key {
		t.Errorf("consumed headers %v, want correlation_id=%s", msg.Headers, key)
	}

	// Closing the group commits the marked offset; the broker must keep it.
	cancel()
	if err := <-consumed; err != nil {
		t.Fatalf("Consume: %v", err)
	}
	if err := group.Close(); err != nil {
		t.Fatalf("close consumer group: %v", err)
	}
	assertCommitted(t, addr, cfg, groupID, partition, offset+1)
}

// firstMatch is a ConsumerGroupHandler that marks every record and reports
// the first one with key.
type firstMatch struct {
	key   string
	found chan *sarama.ConsumerMessage
}

func (*firstMatch) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*firstMatch) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *firstMatch) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for msg := range claim.Messages() {
		sess.MarkMessage(msg, "")
		if string(msg.Key) == h.key {
			select {
			case h.found <- msg:
			default: // already reported
			}
		}
	}
	return nil
}

// assertCommitted checks the offset the broker holds for group on
// in-topic's partition.
func assertCommitted(t *testing.T, addr string, cfg *sarama.Config, group string, partition int32, want int64) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("NewClusterAdmin: %v", err)
	}
	defer admin.Close()
	offsets, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{"in-topic": {partition}})
	if err != nil {
		t.Fatalf("ListConsumerGroupOffsets: %v", err)
	}
	block := offsets.GetBlock("in-topic", partition)
	if block == nil || !errors.Is(block.Err, sarama.ErrNoError) || block.Offset != want {
		t.Errorf("committed offset for %s on in-topic/%d = %+v, want %d", group, partition, block, want)
	}
}

// assertTopics checks that the broker at addr has each topic, with partitions each: the
// services never create a topic, so one missing turns an endpoint to 503.
func assertTopics(t *testing.T, addr string, topics []string, partitions int32) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin([]string{addr}, sarama.NewConfig())
	if err != nil {
		t.Fatalf("NewClusterAdmin: %v", err)
	}
	defer admin.Close()
	existing, err := admin.ListTopics()
	if err != nil {
		t.Fatalf("ListTopics: %v", err)
	}
	for _, topic := range topics {
		if detail, ok := existing[topic]; !ok || detail.NumPartitions != partitions {
			t.Errorf("topic %s: %+v (exists: %t), want %d partitions", topic, detail, ok, partitions)
		}
	}
}
