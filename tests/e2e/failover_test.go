package e2e

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// stallBound is the longest a partition may go unanswered while workers come and go:
// a revoked claim hands its partition back within the worker's DrainTimeout (5s), and
// a cooperative rebalance settles in two rounds of heartbeats (1s each) and joins;
// doubled and more for a loaded 2-core machine.
const stallBound = 20 * time.Second

// Three workers join one by one under gateway load, leave one by one, come back, and
// then all three are restarted one after the other, as a rolling deploy does. No
// acknowledged request goes unanswered, and no request waits longer than stallBound
// for its reply.
func TestWorkersJoinLeaveAndRollUnderLoad(t *testing.T) {
	p := newPipeline(t, suite.brokers, 1)
	l, finish := startLoad(t, p.gateway, "roll", 4, 30000, 5*time.Millisecond)
	step := func(what string) {
		t.Helper()
		l.waitAcked(t, 100, 60*time.Second)
		t.Logf("%s; %d acknowledged so far", what, len(l.ackedIDs()))
	}
	step("one worker")
	for range 2 {
		p.addWorker()
		step(fmt.Sprintf("%d workers", len(p.workers)))
	}
	for i := 2; i >= 1; i-- {
		if err := p.workers[i].stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		step(fmt.Sprintf("worker %d stopped", i))
	}
	for i := 1; i <= 2; i++ {
		p.workers[i].restart()
		waitReady(t, p.workers[i], 60*time.Second)
		step(fmt.Sprintf("worker %d back", i))
	}
	// Cooperative rebalancing: worker 0 kept its one session through four rebalances,
	// and the partitions that moved were revoked one by one, not the whole session.
	if n := len(p.workers[0].logsWith("message", "consumer group session started")); n != 1 {
		t.Errorf("worker 0 started %d sessions through the joins and leaves, want 1 (cooperative)", n)
	}
	revoked := 0
	for _, w := range p.workers {
		for _, line := range w.logsWith("message", "claim finished") {
			if line["revoked"] == true {
				revoked++
			}
		}
	}
	if revoked == 0 {
		t.Error("no claim was revoked on its own: the group did not rebalance cooperatively")
	}
	for i, w := range p.workers { // the rolling restart
		if err := w.stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		w.restart()
		waitReady(t, w, 60*time.Second)
		step(fmt.Sprintf("worker %d restarted", i))
	}
	finish()

	acked, refused, failed := l.counts()
	if refused+failed > 0 {
		t.Errorf("%d refused, %d without an answer: the gateway must not notice the workers", refused, failed)
	}
	counts, worst, worstID := l.replyLatencies(t, p.brokers, p.tp, 120*time.Second)
	if worst > stallBound {
		t.Errorf("request %s waited %s for its reply, longer than %s", worstID, worst, stallBound)
	}
	t.Logf("workers joined, left and rolled: %d acknowledged, all answered, %d duplicates, %d refused; slowest reply %s after its acknowledgement, slowest acknowledgement %s",
		acked, duplicatesOf(counts, l.ackedIDs()), refused, worst.Round(time.Millisecond), l.slowestAck().Round(time.Millisecond))
}

// The broker leading the in-topic is SIGKILLed under gateway load on a 3-node cluster
// (replication factor 3, min.insync.replicas 2). No acknowledged request is lost, the
// gateway refuses requests only while a partition has no live leader, and gateway and
// worker carry on without a restart, also after the node comes back.
func TestLeaderBrokerKilledUnderLoad(t *testing.T) {
	cluster, err := testkit.StartKafka(suite.repoRoot, "KAFKA_NODES=3")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Clean)
	brokers := cluster.Addr
	p := pipelineOn(t, brokers, createTopics(t, brokers, 3, nil), 1)
	leaders := watchLeaders(t, brokers, p.tp.in, p.tp.out)

	l, finish := startLoad(t, p.gateway, "failover", 8, 30000, 2*time.Millisecond)
	l.waitAcked(t, 200, 60*time.Second)
	victim := leaders.leaderOf(p.tp.in, 0)
	killedAt := time.Now()
	if err := cluster.KillNode(victim); err != nil {
		t.Fatal(err)
	}
	leaders.killed(victim)
	t.Logf("SIGKILLed node %d, the leader of %s/0", victim, p.tp.in)
	waitFor(t, 60*time.Second, "every partition led by a live broker", leaders.allLive)
	t.Logf("new leaders %s after the kill", leaders.recoveredAt().Sub(killedAt).Round(time.Millisecond))
	l.waitAcked(t, 300, 90*time.Second)
	if err := cluster.StartNode(victim); err != nil {
		t.Fatal(err)
	}
	l.waitAcked(t, 300, 90*time.Second)
	finish()

	acked, refused, failed := l.counts()
	if failed > 0 {
		t.Errorf("%d requests got no HTTP answer", failed)
	}
	noLeaderFrom, noLeaderTo := killedAt, leaders.recoveredAt()
	for _, r := range l.refusals() {
		if r.done.Before(noLeaderFrom) || r.began.After(noLeaderTo) {
			t.Errorf("request %s refused at %s, outside the time without a leader (%s to %s)",
				r.id, r.done.Format(time.StampMilli), noLeaderFrom.Format(time.StampMilli), noLeaderTo.Format(time.StampMilli))
		}
	}
	counts, worst, worstID := l.replyLatencies(t, brokers, p.tp, 180*time.Second)
	if worst > time.Minute {
		t.Errorf("request %s waited %s for its reply", worstID, worst)
	}
	for _, s := range []*service{p.gateway, p.workers[0]} {
		waitReady(t, s, 60*time.Second)
	}
	// The gateway's producer rides out the election: the requests that met it are
	// acknowledged late rather than refused.
	t.Logf("leader killed under load: %d acknowledged, all answered, %d duplicates, %d refused (500), %d without answer; slowest acknowledgement %s, slowest reply %s after its acknowledgement",
		acked, duplicatesOf(counts, l.ackedIDs()), refused, failed, l.slowestAck().Round(time.Millisecond), worst.Round(time.Millisecond))
}

// leaderWatch polls the cluster's metadata and remembers when, after a node was killed,
// every partition of the watched topics had a leader other than that node.
type leaderWatch struct {
	t      *testing.T
	client sarama.Client
	topics []string

	mu        sync.Mutex
	victim    int32
	recovered time.Time
}

func watchLeaders(t *testing.T, brokers string, topics ...string) *leaderWatch {
	t.Helper()
	cfg := clientConfig(brokers)
	cfg.Metadata.Retry.Max = 0
	client, err := sarama.NewClient(strings.Split(brokers, ","), cfg)
	if err != nil {
		t.Fatalf("metadata client: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return &leaderWatch{t: t, client: client, topics: topics, victim: -1}
}

func (w *leaderWatch) leaderOf(topic string, partition int32) int32 {
	w.t.Helper()
	if err := w.client.RefreshMetadata(topic); err != nil {
		w.t.Fatal(err)
	}
	leader, err := w.client.Leader(topic, partition)
	if err != nil {
		w.t.Fatalf("leader of %s/%d: %v", topic, partition, err)
	}
	return leader.ID()
}

func (w *leaderWatch) killed(node int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.victim = node
}

// allLive is a waitFor check: nil once every partition's leader is alive; it records
// the first time that was seen.
func (w *leaderWatch) allLive() error {
	if err := w.client.RefreshMetadata(w.topics...); err != nil {
		return err
	}
	for _, topic := range w.topics {
		partitions, err := w.client.Partitions(topic)
		if err != nil {
			return err
		}
		for _, partition := range partitions {
			leader, err := w.client.Leader(topic, partition)
			if err != nil {
				return fmt.Errorf("%s/%d: %w", topic, partition, err)
			}
			if leader.ID() == w.victim {
				return fmt.Errorf("%s/%d still led by the killed node %d", topic, partition, w.victim)
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.recovered.IsZero() {
		w.recovered = time.Now()
	}
	return nil
}

func (w *leaderWatch) recoveredAt() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.recovered
}
