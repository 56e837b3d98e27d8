package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// acked remembers the correlation IDs a client was told were accepted.
type acked struct {
	mu  sync.Mutex
	ids []string
}

func (a *acked) add(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids = append(a.ids, id)
}

func (a *acked) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}

// replyCounts reads tp.out until every ID in want has a reply and returns how many
// replies each ID got, counted on the whole topic up to its high-water mark.
func replyCounts(t *testing.T, brokers string, tp topics, want []string, within time.Duration) map[string]int {
	t.Helper()
	missing := map[string]bool{}
	for _, id := range want {
		missing[id] = true
	}
	read := 0 // done sees every record so far each time: look only at the new ones
	readUntil(t, brokers, tp.out, within, func(seen []*sarama.ConsumerMessage) bool {
		for _, msg := range seen[read:] {
			delete(missing, string(msg.Key))
		}
		read = len(seen)
		return len(missing) == 0
	})
	return countsToHighWater(t, brokers, tp.out)
}

// countsToHighWater counts topic's records per key, read to its high-water mark
// (testkit.ReplyCounts): every reply written so far, however late.
func countsToHighWater(t *testing.T, brokers, topic string) map[string]int {
	t.Helper()
	client, err := sarama.NewClient(strings.Split(brokers, ","), clientConfig(brokers))
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	counts, err := testkit.ReplyCounts(ctx, client, topic)
	if err != nil {
		t.Fatalf("read %s to its high-water mark: %v", topic, err)
	}
	return counts
}

func TestBrokerOutageAndRecovery(t *testing.T) {
	b, err := testkit.StartKafka(suite.repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Clean)
	tp := newTopics(t, b.Addr)
	gateway, worker := startPair(t, b.Addr, tp)

	var accepted acked
	for range 5 {
		status, id, body := ping(t, gateway, "")
		if status != http.StatusOK {
			t.Fatalf("ping before the outage: %d %s", status, body)
		}
		accepted.add(id)
	}

	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	outageStart := time.Now()
	status, _, body := ping(t, gateway, "outage-1")
	if status != http.StatusInternalServerError || string(body) != `{"detail":"Failed to process message"}` {
		t.Fatalf("ping with the broker down: %d %s", status, body)
	}
	t.Logf("ping failed %s after the broker stopped", time.Since(outageStart).Round(time.Millisecond))
	waitLogged(t, gateway, "outage-1", "level", "error")
	for _, s := range []*service{gateway, worker} {
		waitFor(t, 20*time.Second, s.name+" /readyz turns 503", func() error {
			if status, body, err := s.get("/readyz", nil); err != nil || status != http.StatusServiceUnavailable {
				return fmt.Errorf("status %d %s: %v", status, body, err)
			}
			return nil
		})
		t.Logf("%s not ready %s after the broker stopped", s.name, time.Since(outageStart).Round(time.Millisecond))
	}

	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	recoveryStart := time.Now()
	waitFor(t, 90*time.Second, "ping succeeds after the broker is back", func() error {
		status, id, body := ping(t, gateway, "")
		if status != http.StatusOK {
			return fmt.Errorf("status %d: %s", status, body)
		}
		accepted.add(id)
		return nil
	})
	t.Logf("ping answered again %s after the broker restarted", time.Since(recoveryStart).Round(time.Millisecond))
	for range 5 {
		status, id, body := ping(t, gateway, "")
		if status != http.StatusOK {
			t.Fatalf("ping after recovery: %d %s", status, body)
		}
		accepted.add(id)
	}
	for _, s := range []*service{gateway, worker} {
		waitReady(t, s, 60*time.Second)
	}

	counts := replyCounts(t, b.Addr, tp, accepted.list(), 90*time.Second)
	t.Logf("%d accepted requests, all answered (%d replies)", len(accepted.list()), total(counts))
}

func TestWorkerKilledWhileRecordsInFlight(t *testing.T) {
	t.Parallel() // its own topics, group and processes; it mostly waits on them
	tp := newTopics(t, suite.brokers)
	gateway, worker := startPair(t, suite.brokers, tp)

	const requests, clients, killAfter = 300, 4, 100
	var accepted acked
	var failed sync.Map
	next := make(chan int)
	var senders sync.WaitGroup
	for range clients {
		senders.Go(func() {
			for i := range next {
				id := fmt.Sprintf("crash-%04d", i)
				status, _, body, err := gateway.request("/v1/ping", http.Header{"X-Correlation-Id": {id}})
				if err != nil || status != http.StatusOK {
					failed.Store(id, fmt.Sprintf("%d %s %v", status, body, err))
					continue
				}
				accepted.add(id)
			}
		})
	}
	for i := range requests {
		if i == killAfter {
			worker.kill()
		}
		next <- i
	}
	close(next)
	senders.Wait()
	failed.Range(func(id, why any) bool {
		t.Errorf("request %s was refused although the broker was up: %s", id, why)
		return true
	})

	worker.restart()
	waitReady(t, worker, 60*time.Second)
	counts := replyCounts(t, suite.brokers, tp, accepted.list(), 120*time.Second)
	duplicates := 0
	for _, id := range accepted.list() {
		duplicates += counts[id] - 1
	}
	t.Logf("%d requests accepted, every one answered; %d duplicate replies after the kill (at-least-once)", len(accepted.list()), duplicates)
}

// The worker is killed while it holds records it received but whose replies the broker
// has not acknowledged (the out-topic does not exist, so every reply is refused,
// retriably, and retried). Once the topic accepts the replies again, the
// restarted worker answers every request: an unacknowledged reply never lets its
// request's offset be committed.
func TestWorkerKilledWithRepliesUnacknowledged(t *testing.T) {
	t.Parallel() // its own topics, group and processes; it mostly waits on them
	tp := newTopicsWithoutOut(t, suite.brokers)
	gateway, worker := startPair(t, suite.brokers, tp)

	var accepted acked
	for i := range 30 {
		id := fmt.Sprintf("stalled-%02d", i)
		if status, _, body := ping(t, gateway, id); status != http.StatusOK {
			t.Fatalf("ping %s: %d %s", id, status, body)
		}
		accepted.add(id)
	}
	for _, id := range accepted.list() {
		waitLogged(t, worker, id, "message", "received")
	}
	waitFor(t, 30*time.Second, "the worker retries a refused reply", func() error {
		if len(worker.logsWith("message", "publish failed; will retry")) == 0 {
			return errNotYet
		}
		return nil
	})
	if answered := worker.logsWith("message", "published reply"); len(answered) != 0 {
		t.Fatalf("replies were acknowledged although out-topic refuses writes: %v", answered[0])
	}
	worker.kill()

	createOutTopic(t, suite.brokers, tp)
	worker.restart()
	waitReady(t, worker, 60*time.Second)
	counts := replyCounts(t, suite.brokers, tp, accepted.list(), 120*time.Second)
	t.Logf("%d requests held unacknowledged at the kill, every one answered after the restart (%d replies)",
		len(accepted.list()), total(counts))
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}
