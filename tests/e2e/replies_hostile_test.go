package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// startWorker runs a worker alone on tp and waits until it is ready.
func startWorker(t *testing.T, tp topics, extra ...string) *service {
	t.Helper()
	worker := startService(t, "worker", append(tp.env(suite.brokers), extra...)...)
	waitReady(t, worker, 60*time.Second)
	return worker
}

// requestBody is a valid request with correlation ID id.
func requestBody(t *testing.T, id string) []byte {
	t.Helper()
	b, err := messages.EncodeRequest(messages.NewRequest(id, "hostile", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deadLetterFor waits for the dead letter whose dlq_original_offset is offset of the
// in-topic partition, and returns it.
func deadLetterFor(t *testing.T, tp topics, partition int32, offset int64) *sarama.ConsumerMessage {
	t.Helper()
	var found *sarama.ConsumerMessage
	readUntil(t, suite.brokers, tp.dlq, 60*time.Second, func(seen []*sarama.ConsumerMessage) bool {
		for _, m := range seen {
			if testkit.Header(m, "dlq_original_partition") == fmt.Sprint(partition) && testkit.Header(m, "dlq_original_offset") == fmt.Sprint(offset) {
				found = m
				return true
			}
		}
		return false
	})
	if found == nil {
		t.Fatalf("no dead letter for %s/%d@%d", tp.in, partition, offset)
	}
	return found
}

// waitDrained waits until the worker committed every record of the in-topic.
func waitDrained(t *testing.T, worker *service, tp topics) {
	t.Helper()
	in := `topic="` + tp.in + `"`
	waitFor(t, 60*time.Second, "the worker's lag is 0", func() error {
		w := worker.scrape(t)
		lag, parts := sumOf(w, "streamgate_worker_consumer_lag", in)
		stuck, _ := sumOf(w, "streamgate_worker_partition_stuck", in)
		if lag != 0 || parts != 3 || stuck != 0 {
			return fmt.Errorf("lag %v over %d partitions, stuck %v", lag, parts, stuck)
		}
		return nil
	})
}

// Issue 16, item 1: a reply the broker can never take goes to the dead-letter topic with
// the reason, instead of being retried forever (holding the partition and logging the
// whole correlation ID on every retry). Two ways to get one: a 350 KB correlation ID,
// whose reply (ID in key, body and header) is over the 1 MB limit; and a reply_to topic
// whose max.message.bytes is smaller than any reply.
func TestUnwritableReplyIsDeadLettered(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	small := createTinyTopic(t, tp.in+".replies")
	worker := startWorker(t, tp)

	hugeID := strings.Repeat("h", 350_000)
	hugeP, hugeO := produce(t, suite.brokers, tp.in, nil, requestBody(t, hugeID),
		sarama.RecordHeader{Key: []byte("correlation_id"), Value: []byte(hugeID)})
	smallID := "to-small-" + uuid.NewString()
	smallP, smallO := produce(t, suite.brokers, tp.in, []byte(smallID), requestBody(t, smallID),
		sarama.RecordHeader{Key: []byte("correlation_id"), Value: []byte(smallID)},
		sarama.RecordHeader{Key: []byte("reply_to"), Value: []byte(small)})

	for _, c := range []struct {
		name      string
		partition int32
		offset    int64
		refusal   string
	}{
		{"350 KB correlation ID", hugeP, hugeO, `reply to topic "` + tp.out + `" refused`},
		{"reply_to topic with max.message.bytes 16", smallP, smallO, `reply to topic "` + small + `" refused`},
	} {
		dead := deadLetterFor(t, tp, c.partition, c.offset)
		if got := testkit.Header(dead, "dlq_error"); !strings.Contains(got, c.refusal) || len(got) > 1024 {
			t.Errorf("%s: dlq_error %.300q, want a short one saying %q", c.name, got, c.refusal)
		}
	}
	waitDrained(t, worker, tp)
	w := worker.scrape(t)
	if got := w[`streamgate_worker_dead_letters_total{reason="reply_unwritable",route="ping"}`]; got != 2 {
		t.Errorf("dead letters{reply_unwritable} = %v, want 2", got)
	}
	if n := countRecords(t, small) + countRecords(t, tp.out); n != 0 {
		t.Errorf("%d replies written, want none", n)
	}
	// No line carries the whole ID (log fields are truncated).
	worker.mu.Lock()
	longest := 0
	for _, line := range worker.raw {
		longest = max(longest, len(line))
	}
	worker.mu.Unlock()
	if longest > 16*1024 {
		t.Errorf("a log line of %d bytes: the correlation ID is not truncated", longest)
	}
	t.Logf("both unwritable replies dead-lettered; longest log line %d bytes", longest)
}

// Issue 16, items 3 and 9: the worker writes replies only to the topics its reply_to
// policy allows (by default <in-topic>.replies), never into its own in-topic or
// dead-letter topic or an unrelated one, and never makes the broker create a topic
// (the test broker auto-creates topics on demand). A refused reply_to is dead-lettered
// with the reason; a sender's dlq_* headers never survive into a dead letter.
func TestReplyToAllowList(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	admin := newAdmin(t, suite.brokers)
	allowed, unrelated := tp.in+".replies", tp.in+".unrelated"
	for _, name := range []string{allowed, unrelated} {
		if err := admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
			t.Fatal(err)
		}
	}
	worker := startWorker(t, tp)
	notThere := tp.in + ".created-on-demand"
	long := strings.Repeat("x", 249)

	type sent struct {
		replyTo   string
		partition int32
		offset    int64
	}
	var refused []sent
	for _, to := range []string{unrelated, tp.in, tp.dlq, notThere, long} {
		id := "reply-to-" + uuid.NewString()
		p, o := produce(t, suite.brokers, tp.in, []byte(id), requestBody(t, id),
			sarama.RecordHeader{Key: []byte("correlation_id"), Value: []byte(id)},
			sarama.RecordHeader{Key: []byte("reply_to"), Value: []byte(to)},
			sarama.RecordHeader{Key: []byte("dlq_original_topic"), Value: []byte("payments")}, // forged
			sarama.RecordHeader{Key: []byte("dlq_error"), Value: []byte("forged")})
		refused = append(refused, sent{to, p, o})
	}
	okID := "reply-to-ok-" + uuid.NewString()
	produce(t, suite.brokers, tp.in, []byte(okID), requestBody(t, okID),
		sarama.RecordHeader{Key: []byte("correlation_id"), Value: []byte(okID)},
		sarama.RecordHeader{Key: []byte("reply_to"), Value: []byte(allowed)})

	for _, s := range refused {
		dead := deadLetterFor(t, tp, s.partition, s.offset)
		n := 0
		for _, h := range dead.Headers {
			if string(h.Key) == "dlq_original_topic" || string(h.Key) == "dlq_error" {
				n++
			}
		}
		name := s.replyTo[:min(len(s.replyTo), 40)]
		if got := testkit.Header(dead, "dlq_error"); !strings.Contains(got, "reply_to topic not allowed") || n != 2 ||
			testkit.Header(dead, "dlq_original_topic") != tp.in {
			t.Errorf("reply_to %s: dlq_error %q, origin %q, %d provenance headers; want the refusal, %s, 2",
				name, got, testkit.Header(dead, "dlq_original_topic"), n, tp.in)
		}
	}
	replies := readUntil(t, suite.brokers, allowed, 60*time.Second, func(seen []*sarama.ConsumerMessage) bool { return len(seen) >= 1 })
	var body struct {
		CorrelationID string `json:"correlation_id"`
	}
	if err := json.Unmarshal(replies[0].Value, &body); err != nil || body.CorrelationID != okID {
		t.Errorf("reply on %s: %s (%v), want the answer to %s", allowed, replies[0].Value, err, okID)
	}
	waitDrained(t, worker, tp)

	if n := countRecords(t, unrelated); n != 0 {
		t.Errorf("%d records written to the unrelated topic", n)
	}
	if n := countRecords(t, tp.in); n != int64(len(refused)+1) {
		t.Errorf("in-topic holds %d records, want the %d produced", n, len(refused)+1)
	}
	if n := countRecords(t, tp.dlq); n != int64(len(refused)) {
		t.Errorf("dead-letter topic holds %d records, want the %d dead letters", n, len(refused))
	}
	topics, err := admin.ListTopics()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{notThere, long} {
		if _, ok := topics[name]; ok {
			t.Errorf("topic %.40s... was created", name)
		}
	}
	if got := worker.scrape(t)[`streamgate_worker_dead_letters_total{reason="reply_to_refused",route="ping"}`]; got != float64(len(refused)) {
		t.Errorf("dead letters{reply_to_refused} = %v, want %d", got, len(refused))
	}
}

// Issue 16, item 10: a topic or group name Kafka would refuse stops the worker at
// start-up with an error naming the variable.
func TestBadTopicNameFailsStartUp(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(suite.binDir, "worker"))
	cmd.Env = append(append(os.Environ(), "HTTP_ADDR="+freeLoopbackAddr(t), "METRICS_ADDR="+freeLoopbackAddr(t)),
		append(tp.env(suite.brokers), "KAFKA_OUT_TOPIC=out topic", "KAFKA_GROUP_ID=group:1")...)
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("worker with invalid names: %v (ctx %v); output %s", err, ctx.Err(), out)
	}
	for _, want := range []string{`KAFKA_OUT_TOPIC="out topic"`, `KAFKA_GROUP_ID="group:1"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("start-up error does not name %s: %s", want, out)
		}
	}
}
