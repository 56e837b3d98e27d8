package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// The proofs of DELIVERY=exactly-once (docs/exactly-once.md): acknowledged requests are
// counted by how many replies a read_committed reader finds for each, every topic read
// to its high-water mark.

const (
	atLeastOnce = "DELIVERY=at-least-once"
	exactlyOnce = "DELIVERY=exactly-once"
)

// endMarker keys the record readToEnd writes last to every partition of a topic.
const endMarker = "e2e-end-of-topic"

// readToEnd writes an end marker to every partition of topic and reads the topic with
// isolation until each marker: every record below the high-water mark it saw, but the
// markers. Run it once the writers are stopped, or their open transactions hold it up
// until they end.
func readToEnd(t *testing.T, brokers, topic string, isolation sarama.IsolationLevel, within time.Duration) []*sarama.ConsumerMessage {
	t.Helper()
	partitions, err := newAdmin(t, brokers).DescribeTopics([]string{topic})
	if err != nil || len(partitions) != 1 {
		t.Fatalf("describe %s: %v", topic, err)
	}
	for _, p := range partitions[0].Partitions {
		produceToPartition(t, brokers, topic, p.ID, []byte(endMarker), sarama.RecordHeader{Key: []byte("e2e"), Value: []byte(endMarker)})
	}
	// Per partition: an earlier call's markers are in the topic too, and counting
	// markers would stop once one partition showed two, before another was read.
	ended, read := map[int32]bool{}, 0
	seen := readUntilWith(t, brokers, topic, isolation, within, func(seen []*sarama.ConsumerMessage) bool {
		for _, msg := range seen[read:] {
			if testkit.Header(msg, "e2e") == endMarker {
				ended[msg.Partition] = true
			}
		}
		read = len(seen)
		return len(ended) == len(partitions[0].Partitions)
	})
	var records []*sarama.ConsumerMessage
	for _, msg := range seen {
		if testkit.Header(msg, "e2e") != endMarker {
			records = append(records, msg)
		}
	}
	return records
}

// tally is how many acknowledged requests got no, one, or more replies.
type tally struct {
	acked, lost, once, twiceOrMore, duplicates, deadLetters, strays int
}

func (c tally) String() string {
	return fmt.Sprintf("%d acknowledged: %d with no reply, %d with one, %d with two or more (%d duplicate replies); %d dead letters; %d replies to unknown requests",
		c.acked, c.lost, c.once, c.twiceOrMore, c.duplicates, c.deadLetters, c.strays)
}

// countReplies reads the pipeline's out- and dead-letter topics to their ends with
// isolation and tallies the replies of acked.
func countReplies(t *testing.T, p *pipeline, acked []string, isolation sarama.IsolationLevel) tally {
	t.Helper()
	perID := map[string]int{}
	for _, msg := range readToEnd(t, p.brokers, p.tp.out, isolation, 2*time.Minute) {
		perID[string(msg.Key)]++
	}
	c := tallyOf(perID, acked)
	c.deadLetters = len(readToEnd(t, p.brokers, p.tp.dlq, isolation, 2*time.Minute))
	return c
}

// tallyOf tallies replies counted per key against the acknowledged requests.
func tallyOf(perID map[string]int, acked []string) tally {
	c := tally{acked: len(acked)}
	known := map[string]bool{}
	for _, id := range acked {
		known[id] = true
		switch n := perID[id]; {
		case n == 0:
			c.lost++
		case n == 1:
			c.once++
		default:
			c.twiceOrMore++
			c.duplicates += n - 1
		}
	}
	for id, n := range perID {
		if !known[id] {
			c.strays += n
		}
	}
	return c
}

// settle waits until every acknowledged request has a committed reply, then stops the
// workers gracefully, so that nothing is in flight when the topics are counted.
func settle(t *testing.T, p *pipeline, l *load) []string {
	t.Helper()
	acked := l.ackedIDs()
	replyCounts(t, p.brokers, p.tp, acked, 3*time.Minute)
	stopAll(t, 30*time.Second, p.workers...)
	return acked
}

// Five SIGKILLs of the worker under gateway load, in both delivery modes. Every
// acknowledged request is answered in both; at-least-once answers some twice,
// exactly-once never does (read_committed).
func TestWorkerSIGKILLedFiveTimesUnderLoad(t *testing.T) {
	var (
		mu      sync.Mutex
		results = map[string]tally{}
	)
	// The two modes side by side, at once: the same machine load for both.
	t.Run("modes", func(t *testing.T) {
		for _, mode := range []string{atLeastOnce, exactlyOnce} {
			t.Run(strings.TrimPrefix(mode, "DELIVERY="), func(t *testing.T) {
				t.Parallel()
				p := newPipeline(t, suite.brokers, 1, mode)
				l, finish := startLoad(t, p.gateway, "kill", 4, 50000, 5*time.Millisecond)
				w := p.workers[0]
				for i := range 5 {
					l.waitAcked(t, 300, 60*time.Second)
					w.kill()
					w.restart()
					waitReady(t, w, 60*time.Second)
					t.Logf("SIGKILL %d: %d acknowledged so far", i+1, len(l.ackedIDs()))
				}
				l.waitAcked(t, 300, 60*time.Second)
				finish()
				if _, refused, failed := l.counts(); refused+failed > 0 {
					t.Errorf("%d refused, %d failed: the gateway must not notice the worker's deaths", refused, failed)
				}
				c := countReplies(t, p, settle(t, p, l), sarama.ReadCommitted)
				mu.Lock()
				results[mode] = c
				mu.Unlock()
				t.Logf("%s, 5 SIGKILLs: %s", mode, c)
				if c.lost != 0 || c.deadLetters != 0 || c.strays != 0 {
					t.Errorf("lost %d, dead letters %d, strays %d; want 0", c.lost, c.deadLetters, c.strays)
				}
				if mode == exactlyOnce && c.twiceOrMore != 0 {
					t.Errorf("%d requests answered more than once with exactly-once delivery", c.twiceOrMore)
				}
			})
		}
	})
	t.Logf("side by side: at-least-once %d duplicate replies, exactly-once %d (of %d and %d acknowledged)",
		results[atLeastOnce].duplicates, results[exactlyOnce].duplicates, results[atLeastOnce].acked, results[exactlyOnce].acked)
}

// A worker frozen (SIGSTOP) while it holds a transaction's records, until its
// partitions have moved to a second worker, then resumed: its commit carries a
// generation the group has left behind, so the broker refuses it, the transaction is
// aborted, and no reply of it is visible to read_committed. read_uncommitted shows
// that the zombie did write them.
func TestZombieWorkerCannotCommit(t *testing.T) {
	t.Parallel() // its own topics, group and processes; it mostly waits on them
	// The zombie commits rarely, so that it surely holds records when frozen.
	p := newPipeline(t, suite.brokers, 1, exactlyOnce, "TRANSACTION_MAX_WAIT=3s", "TRANSACTION_MAX_RECORDS=10000")
	zombie := p.workers[0]
	l, finish := startLoad(t, p.gateway, "zombie", 4, 20000, 2*time.Millisecond)
	l.waitAcked(t, 200, 60*time.Second)
	waitFor(t, 30*time.Second, "the first worker commits a transaction", func() error {
		if len(zombie.logsWith("message", "transaction committed")) == 0 {
			return errNotYet
		}
		return nil
	})
	if err := zombie.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozenAt := time.Now()
	successor := p.addWorker(exactlyOnce) // ready once the group gave it the partitions
	waitFor(t, 60*time.Second, "the successor owns every partition", func() error {
		if n := len(successor.logsWith("message", "claim started")); n < 3 {
			return fmt.Errorf("%d claims", n)
		}
		return nil
	})
	l.waitAcked(t, 200, 60*time.Second)
	t.Logf("partitions moved %s after the freeze", time.Since(frozenAt).Round(time.Millisecond))
	if err := zombie.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the resumed worker's transaction is aborted", func() error {
		for _, line := range zombie.logsWith("message", "transaction aborted; consuming again from the last committed offsets") {
			if n, _ := line["records"].(float64); n > 0 {
				t.Logf("zombie: %v records aborted: %v", n, line["error"])
				return nil
			}
		}
		return errNotYet
	})
	l.waitAcked(t, 200, 60*time.Second)
	finish()
	acked := settle(t, p, l)
	committed := countReplies(t, p, acked, sarama.ReadCommitted)
	uncommitted := countReplies(t, p, acked, sarama.ReadUncommitted)
	t.Logf("read_committed: %s", committed)
	t.Logf("read_uncommitted: %s", uncommitted)
	if committed.lost != 0 || committed.twiceOrMore != 0 || committed.strays != 0 {
		t.Errorf("read_committed: %d lost, %d answered twice or more, %d strays; want 0", committed.lost, committed.twiceOrMore, committed.strays)
	}
	if uncommitted.duplicates == 0 {
		t.Error("read_uncommitted sees no duplicate: the zombie wrote nothing before its abort, so this run proved no fencing")
	}

	// A FastStream (aiokafka) subscriber sees the same: each reply once only with
	// isolation_level="read_committed".
	for _, isolation := range []string{"read_committed", "read_uncommitted"} {
		c := fastStreamCount(t, p, acked, isolation)
		t.Logf("FastStream, isolation_level=%q: %s", isolation, c)
		switch {
		case isolation == "read_committed" && (c.lost != 0 || c.twiceOrMore != 0 || c.strays != 0):
			t.Errorf("FastStream read_committed: %d lost, %d answered twice or more, %d strays; want 0", c.lost, c.twiceOrMore, c.strays)
		case isolation == "read_uncommitted" && c.duplicates != uncommitted.duplicates:
			t.Errorf("FastStream read_uncommitted sees %d duplicates, sarama %d", c.duplicates, uncommitted.duplicates)
		}
	}
}

// fastStreamCount tallies the replies of acked that a FastStream subscriber with
// isolation reads from the out-topic, up to the end markers readToEnd wrote.
func fastStreamCount(t *testing.T, p *pipeline, acked []string, isolation string) tally {
	t.Helper()
	out := runPython(t, 3*time.Minute, "faststream_peer.py", "count", "--brokers", p.brokers, "--topic", p.tp.out,
		"--partitions", "3", "--isolation", isolation, "--timeout", "120")
	var got struct {
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("faststream_peer.py count: %v\n%s", err, out)
	}
	return tallyOf(got.Counts, acked)
}

// Under gateway load the group grows from one exactly-once worker to three, shrinks
// back to one, and that one is restarted (a rolling deploy): nothing lost, nothing
// twice.
func TestExactlyOnceScaleAndRollingRestart(t *testing.T) {
	t.Parallel() // its own topics, group and processes; it mostly waits on them
	p := newPipeline(t, suite.brokers, 1, exactlyOnce)
	l, finish := startLoad(t, p.gateway, "scale", 4, 30000, 2*time.Millisecond)
	step := func(what string) {
		t.Helper()
		l.waitAcked(t, 200, 60*time.Second)
		t.Logf("%s; %d acknowledged so far", what, len(l.ackedIDs()))
	}
	step("one worker")
	p.addWorker(exactlyOnce)
	p.addWorker(exactlyOnce)
	step("three workers")
	for _, i := range []int{2, 1} {
		if err := p.workers[i].stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		step(fmt.Sprintf("worker %d stopped", i))
	}
	p.workers = p.workers[:1]
	p.addWorker(exactlyOnce) // the new version first, then the old one goes
	step("rolling: the new worker joined")
	if err := p.workers[0].stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	p.workers = p.workers[1:]
	step("rolling: the old worker left")
	finish()
	if _, refused, failed := l.counts(); refused+failed > 0 {
		t.Errorf("%d refused, %d failed", refused, failed)
	}
	c := countReplies(t, p, settle(t, p, l), sarama.ReadCommitted)
	t.Logf("scale 1→3→1 and a rolling restart: %s", c)
	if c.lost != 0 || c.twiceOrMore != 0 || c.deadLetters != 0 || c.strays != 0 {
		t.Errorf("want every acknowledged request answered exactly once: %s", c)
	}
}

// createTinyTopic creates a one-partition topic that takes no record over 16 bytes: no
// reply fits.
func createTinyTopic(t *testing.T, name string) string {
	t.Helper()
	tiny := "16"
	if err := newAdmin(t, suite.brokers).CreateTopic(name, &sarama.TopicDetail{
		NumPartitions: 1, ReplicationFactor: 1, ConfigEntries: map[string]*string{"max.message.bytes": &tiny},
	}, false); err != nil {
		t.Fatal(err)
	}
	return name
}
