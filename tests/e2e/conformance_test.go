package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// TestConformance is Watermill's universal pub/sub checklist (its pubsub/tests/test_pubsub.go),
// case by case under the same names, adapted to streamgate's request/reply pipeline:
// "publish" is GET /v1/ping through the gateway, "subscribe" is the worker's consumer
// group, and a message counts as delivered once its reply is on the out-topic. Each case
// has its own topics and processes, on the shared broker (Reconnect starts its own), so
// the cases run in parallel (go test's -parallel, GOMAXPROCS by default): they mostly
// wait on Kafka.
func TestConformance(t *testing.T) {
	// Every request published is answered; without faults, exactly once, with a
	// well-formed reply.
	t.Run("PublishSubscribe", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 1)
		ids := p.send("pubsub", 100, 4)
		p.answeredOnce(ids, 60*time.Second)
		checkReplyRecord(t, p.tp, ids[len(ids)-1])
	})

	// Several workers consume the same topic at once: every request is answered once,
	// and each worker answers its share.
	t.Run("ConcurrentSubscribe", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 3)
		waitSettled(t, p)
		ids := p.send("concurrent", 300, 8)
		p.answeredOnce(ids, 60*time.Second)
		for i, w := range p.workers {
			if n := len(w.logsWith("message", "published reply")); n == 0 {
				t.Errorf("worker %d answered nothing: the group did not share the partitions", i)
			}
		}
	})

	// Replies to the requests of one partition come out in the order the requests
	// went in: a client keyed by correlation ID sees its requests answered in order.
	t.Run("PublishSubscribeInOrder", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 1)
		ids := p.send("ordered", 300, 1)
		p.answeredOnce(ids, 60*time.Second)
		requests := byPartition(readAll(t, p.brokers, p.tp.in, len(ids)))
		replies := byPartition(readAll(t, p.brokers, p.tp.out, len(ids)))
		for partition, want := range requests {
			got := replies[partition] // same key, same partition count: same partition
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("partition %d: replies in order %v, requests %v", partition, head(got), head(want))
			}
		}
	})

	// A reply the broker refuses is sent again until it is taken; the request is not
	// lost and not skipped.
	t.Run("ResendOnError", func(t *testing.T) {
		t.Parallel()
		p, restore := newPipelineRefusingReplies(t)
		ids := p.send("resend", 20, 2)
		waitLogCount(t, p.workers[0], "publish failed; will retry", 2)
		restore()
		p.answeredOnce(ids, 90*time.Second)
	})

	// A request whose reply is not acknowledged is not acknowledged either: the group's
	// committed offsets do not move past it, so a crash would redeliver it.
	t.Run("NoAck", func(t *testing.T) {
		t.Parallel()
		p, restore := newPipelineRefusingReplies(t)
		ids := p.send("noack", 30, 2)
		waitLogCount(t, p.workers[0], "publish failed; will retry", 1)
		time.Sleep(3 * time.Second) // three auto-commit intervals
		admin := newAdmin(t, p.brokers)
		if n := committed(t, admin, p.tp); n > 0 {
			t.Fatalf("%d offsets committed while no reply was acknowledged", n)
		}
		restore()
		p.answeredOnce(ids, 90*time.Second)
		waitFor(t, 30*time.Second, "offsets committed once answered", func() error {
			if n := committed(t, admin, p.tp); n != int64(len(ids)) {
				return fmt.Errorf("%d of %d committed", n, len(ids))
			}
			return nil
		})
	})

	// A worker stopped in the middle of a backlog leaves; the next one picks up where
	// it left off, and every request is answered.
	t.Run("ContinueAfterSubscribeClose", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 0)
		ids := p.send("continue", 400, 8) // backlog, nobody consuming yet
		first := p.addWorker()
		waitLogCount(t, first, "published reply", 50)
		if err := first.stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		answeredBefore := len(first.logsWith("message", "published reply"))
		p.addWorker()
		dup := p.answered(ids, 90*time.Second)
		t.Logf("%d answered before the stop, the rest after; %d duplicates", answeredBefore, dup)
		if dup != 0 {
			t.Errorf("%d duplicates after a graceful stop: the stopping worker did not commit what it answered", dup)
		}
	})

	// Workers closed all at once, under load, each leave cleanly and in time; a new
	// worker then answers everything they had not.
	t.Run("ConcurrentClose", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 3)
		l, finish := startLoad(t, p.gateway, "close", 4, 2000, 0)
		l.waitAcked(t, 100, 60*time.Second)
		stopAll(t, 20*time.Second, p.workers...)
		finish()
		p.addWorker()
		ids := l.ackedIDs()
		dup := p.answered(ids, 90*time.Second)
		t.Logf("%d requests, all answered; %d duplicates", len(ids), dup)
	})

	// Records that fail (malformed, dead-lettered) do not stop the ones after them.
	t.Run("ContinueAfterErrors", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 1)
		var ids []string
		for i := range 10 {
			produce(t, p.brokers, p.tp.in, []byte(fmt.Sprintf("bad-%d", i)), []byte(`{"correlation_id":`))
			ids = append(ids, p.send(fmt.Sprintf("good-%d", i), 5, 1)...)
		}
		p.answeredOnce(ids, 60*time.Second)
		dead := readAll(t, p.brokers, p.tp.dlq, 10)
		if len(dead) != 10 {
			t.Errorf("%d dead letters, want 10", len(dead))
		}
	})

	// Two groups each get every request; within a group each request is answered once.
	t.Run("ConsumerGroups", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 2)
		other := topics{in: p.tp.in, out: p.tp.out + ".other", dlq: p.tp.dlq, group: p.tp.group + ".other"}
		if err := newAdmin(t, p.brokers).CreateTopic(other.out, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
			t.Fatal(err)
		}
		second := startService(t, "worker", other.env(p.brokers)...)
		waitReady(t, second, 60*time.Second)
		ids := p.send("groups", 200, 4)
		p.answeredOnce(ids, 60*time.Second)
		counts := replyCounts(t, p.brokers, other, ids, 60*time.Second)
		if dup := duplicatesOf(counts, ids); dup != 0 {
			t.Errorf("second group: %d duplicates", dup)
		}
	})

	// The gateway stopped under load answers what it accepted: every 200 it gave was
	// already on the broker, and is answered.
	t.Run("PublisherClose", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 1)
		l, finish := startLoad(t, p.gateway, "pubclose", 8, 3000, 0)
		l.waitAcked(t, 200, 60*time.Second)
		if err := p.gateway.stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		finish()
		acked, refused, noAnswer := l.counts()
		p.answeredOnce(l.ackedIDs(), 60*time.Second)
		t.Logf("%d acknowledged (all answered), %d refused, %d without an answer while the gateway stopped", acked, refused, noAnswer)
	})

	// The request's context, its correlation ID, travels with it: echoed to the client
	// and carried by the reply's key, header and body.
	t.Run("MessageCtx", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 1)
		want := map[string]bool{}
		for i := range 20 {
			id := fmt.Sprintf("ctx-%d", i)
			status, echoed, body := ping(t, p.gateway, id)
			if status != http.StatusOK || echoed != id {
				t.Fatalf("ping %s: %d %s, echoed %q", id, status, body, echoed)
			}
			want[id] = true
		}
		for _, msg := range readAll(t, p.brokers, p.tp.out, len(want)) {
			var body struct {
				CorrelationID string `json:"correlation_id"`
			}
			if err := json.Unmarshal(msg.Value, &body); err != nil {
				t.Fatal(err)
			}
			key := string(msg.Key)
			if !want[key] || testkit.Header(msg, "correlation_id") != key || body.CorrelationID != key {
				t.Errorf("reply key %q, header %q, body %q", key, testkit.Header(msg, "correlation_id"), body.CorrelationID)
			}
		}
	})

	// Ending a worker's context (SIGTERM) ends its subscription: it leaves the group at
	// once, so another member takes its partitions without waiting for the session
	// timeout, and it exits cleanly.
	t.Run("SubscribeCtx", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 2)
		waitSettled(t, p)
		leaving := p.workers[0]
		began := time.Now()
		if err := leaving.stop(syscall.SIGTERM, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		admin := newAdmin(t, p.brokers)
		waitFor(t, 9*time.Second, "the other worker owns every partition", func() error {
			return ownedByOne(admin, p.tp)
		})
		t.Logf("partitions moved %s after SIGTERM (session timeout 10s)", time.Since(began).Round(time.Millisecond))
		p.answeredOnce(p.send("subctx", 30, 2), 30*time.Second)
	})

	// The broker goes away and comes back: gateway and worker reconnect by themselves
	// and every request the gateway accepted is answered.
	t.Run("Reconnect", func(t *testing.T) {
		t.Parallel()
		b, err := testkit.StartKafka(suite.repoRoot)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Clean)
		p := newPipeline(t, b.Addr, 1)
		before := p.send("reconnect-before", 20, 2)
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		var after []string
		waitFor(t, 90*time.Second, "the gateway publishes again", func() error {
			status, id, body := ping(t, p.gateway, "")
			if status != http.StatusOK {
				return fmt.Errorf("%d %s", status, body)
			}
			after = append(after, id)
			return nil
		})
		after = append(after, p.send("reconnect-after", 20, 2)...)
		dup := p.answered(append(before, after...), 90*time.Second)
		t.Logf("%d requests across a broker restart, all answered; %d duplicates", len(before)+len(after), dup)
	})

	// Requests sent before any worker ever joined the group are answered by the first
	// one: a new group starts at the oldest record.
	t.Run("NewSubscriberReceivesOldMessages", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, suite.brokers, 0)
		ids := p.send("old", 100, 4)
		p.addWorker()
		p.answeredOnce(ids, 60*time.Second)
	})
}

// TestStress drives the gateway from many clients at once with three workers for a
// bounded time and count: every acknowledged request is answered. STREAMGATE_STRESS_SECONDS
// lengthens it (default 15).
func TestStress(t *testing.T) {
	const clients, limit = 16, 20000
	seconds := 15
	if v, err := strconv.Atoi(os.Getenv("STREAMGATE_STRESS_SECONDS")); err == nil && v > 0 {
		seconds = v
	}
	p := newPipeline(t, suite.brokers, 3)
	waitSettled(t, p)
	began := time.Now()
	l, finish := startLoad(t, p.gateway, "stress", clients, limit, 0)
	select {
	case <-l.done:
	case <-time.After(time.Duration(seconds) * time.Second):
	}
	finish()
	elapsed := time.Since(began)
	acked, refused, failed := l.counts()
	if refused+failed > 0 {
		t.Errorf("%d refused, %d without an answer, with a healthy broker", refused, failed)
	}
	counts, worst, _ := l.replyLatencies(t, p.brokers, p.tp, 120*time.Second)
	dup := duplicatesOf(counts, l.ackedIDs())
	if dup != 0 {
		t.Errorf("%d duplicate replies without any fault", dup)
	}
	perWorker := make([]int, len(p.workers))
	for i, w := range p.workers {
		perWorker[i] = len(w.logsWith("message", "published reply"))
	}
	t.Logf("stress: %d clients, 3 workers, %s: %d requests acknowledged (%.0f/s), all answered, %d duplicates, %d refused; replies per worker %v; slowest reply %s after its acknowledgement",
		clients, elapsed.Round(time.Millisecond), acked, float64(acked)/elapsed.Seconds(), dup, refused, perWorker, worst.Round(time.Millisecond))
}

// newPipelineRefusingReplies starts one worker whose out-topic does not exist yet, so
// every reply is refused (retriably: the worker never has topics created on demand);
// restore creates it. (A reply refused for good, such as one too large, is
// dead-lettered instead.)
func newPipelineRefusingReplies(t *testing.T) (*pipeline, func()) {
	t.Helper()
	p := pipelineOn(t, suite.brokers, newTopicsWithoutOut(t, suite.brokers), 1)
	return p, func() { createOutTopic(t, p.brokers, p.tp) }
}

// waitSettled waits until the group's partitions are spread over all its workers.
func waitSettled(t *testing.T, p *pipeline) {
	t.Helper()
	admin := newAdmin(t, p.brokers)
	waitFor(t, 60*time.Second, "every worker holds a partition", func() error {
		members, err := groupMembers(admin, p.tp.group)
		if err != nil {
			return err
		}
		if members != len(p.workers) {
			return fmt.Errorf("%d members, want %d", members, len(p.workers))
		}
		for i, w := range p.workers {
			if len(w.logsWith("message", "claim started")) == 0 {
				return fmt.Errorf("worker %d has no claim yet", i)
			}
		}
		return nil
	})
}

func groupMembers(admin sarama.ClusterAdmin, group string) (int, error) {
	groups, err := admin.DescribeConsumerGroups([]string{group})
	if err != nil {
		return 0, err
	}
	if len(groups) != 1 || groups[0].State != "Stable" {
		return 0, fmt.Errorf("group %s not stable: %+v", group, groups)
	}
	return len(groups[0].Members), nil
}

// ownedByOne reports whether the group is stable with one member that owns all 3
// partitions of tp.in, as the broker sees the assignment.
func ownedByOne(admin sarama.ClusterAdmin, tp topics) error {
	groups, err := admin.DescribeConsumerGroups([]string{tp.group})
	if err != nil {
		return err
	}
	if len(groups) != 1 || groups[0].State != "Stable" || len(groups[0].Members) != 1 {
		return fmt.Errorf("group not yet one stable member: %+v", groups)
	}
	for _, member := range groups[0].Members {
		assignment, err := member.GetMemberAssignment()
		if err != nil {
			return err
		}
		if got := assignment.Topics[tp.in]; len(got) != 3 {
			return fmt.Errorf("the member owns %v", got)
		}
	}
	return nil
}

// waitLogCount waits until s logged at least n lines with message.
func waitLogCount(t *testing.T, s *service, message string, n int) {
	t.Helper()
	waitFor(t, 60*time.Second, fmt.Sprintf("%s logs %q %d times", s.name, message, n), func() error {
		if got := len(s.logsWith("message", message)); got < n {
			return fmt.Errorf("%d times", got)
		}
		return nil
	})
}

// readAll reads topic from the start until it has n records.
func readAll(t *testing.T, brokers, topic string, n int) []*sarama.ConsumerMessage {
	t.Helper()
	return readUntil(t, brokers, topic, 60*time.Second, func(seen []*sarama.ConsumerMessage) bool { return len(seen) >= n })
}

// byPartition returns the keys of records per partition, in offset order.
func byPartition(records []*sarama.ConsumerMessage) map[int32][]string {
	out := map[int32][]string{}
	for _, rec := range records { // readUntil keeps each partition's order
		out[rec.Partition] = append(out[rec.Partition], string(rec.Key))
	}
	return out
}

func head(keys []string) []string { return keys[:min(len(keys), 5)] }
