package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// pipeline is a gateway and a group of workers on a test's own topics: the
// consume→reply path the conformance suite and the fault proofs drive.
type pipeline struct {
	t       *testing.T
	brokers string
	tp      topics
	gateway *service
	workers []*service
}

// newPipeline starts a gateway and n workers on new topics and waits until all are
// ready. Extra environment goes to every worker.
func newPipeline(t *testing.T, brokers string, workers int, workerEnv ...string) *pipeline {
	t.Helper()
	return pipelineOn(t, brokers, newTopics(t, brokers), workers, workerEnv...)
}

// pipelineOn is newPipeline on topics tp.
func pipelineOn(t *testing.T, brokers string, tp topics, workers int, workerEnv ...string) *pipeline {
	t.Helper()
	p := &pipeline{t: t, brokers: brokers, tp: tp}
	for range workers {
		p.addWorker(workerEnv...)
	}
	p.gateway = startService(t, "gateway", p.tp.env(brokers)...)
	waitReady(t, p.gateway, 60*time.Second)
	return p
}

// addWorker starts one more worker in the group and waits until it is in a session.
func (p *pipeline) addWorker(env ...string) *service {
	p.t.Helper()
	w := startService(p.t, "worker", append(p.tp.env(p.brokers), env...)...)
	waitReady(p.t, w, 60*time.Second)
	p.workers = append(p.workers, w)
	return w
}

// send pings the gateway with n new correlation IDs from clients goroutines and
// returns them; every answer must be 200.
func (p *pipeline) send(prefix string, n, clients int) []string {
	p.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	sendAll(p.t, p.gateway, ids, clients)
	return ids
}

// answered waits until every ID in ids has a reply and returns the number of
// duplicate replies (at-least-once allows them).
func (p *pipeline) answered(ids []string, within time.Duration) (duplicates int) {
	p.t.Helper()
	counts := replyCounts(p.t, p.brokers, p.tp, ids, within)
	for _, id := range ids {
		duplicates += counts[id] - 1
	}
	return duplicates
}

// answeredOnce is answered for a run without faults: a duplicate is a bug there.
func (p *pipeline) answeredOnce(ids []string, within time.Duration) {
	p.t.Helper()
	if dup := p.answered(ids, within); dup != 0 {
		p.t.Errorf("%d duplicate replies without any fault", dup)
	}
}

// load drives the gateway from clients goroutines with new IDs until stop is closed or
// limit requests were sent, and tells apart the requests the gateway acknowledged
// from those it refused. It is bounded by limit even if stop never closes.
type load struct {
	prefix   string
	sent     atomic.Int64
	mu       sync.Mutex
	acked    []string
	ackedAt  map[string]time.Time
	refused  []span        // 500s
	failures []string      // no HTTP answer at all
	slowest  time.Duration // the longest an acknowledged request waited for its 200
	done     chan struct{}
}

func startLoad(t *testing.T, gateway *service, prefix string, clients, limit int, pause time.Duration) (*load, func()) {
	t.Helper()
	l := &load{prefix: prefix, ackedAt: map[string]time.Time{}, done: make(chan struct{})}
	stop := make(chan struct{})
	var senders sync.WaitGroup
	for c := range clients {
		senders.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if l.sent.Add(1) > int64(limit) {
					return
				}
				id := fmt.Sprintf("%s-%02d-%06d", prefix, c, i)
				began := time.Now()
				status, _, body, err := gateway.request("/v1/ping", http.Header{"X-Correlation-Id": {id}})
				l.mu.Lock()
				switch {
				case err != nil:
					l.failures = append(l.failures, fmt.Sprintf("%s: %v", id, err))
				case status == http.StatusOK:
					l.acked = append(l.acked, id)
					l.ackedAt[id] = time.Now()
					l.slowest = max(l.slowest, time.Since(began))
				case status == http.StatusInternalServerError:
					l.refused = append(l.refused, span{id, began, time.Now()})
				default:
					l.failures = append(l.failures, fmt.Sprintf("%s: %d %s", id, status, body))
				}
				l.mu.Unlock()
				if pause > 0 {
					time.Sleep(pause)
				}
			}
		})
	}
	go func() {
		senders.Wait()
		close(l.done)
	}()
	var once sync.Once
	finish := func() {
		once.Do(func() { close(stop) })
		<-l.done
	}
	t.Cleanup(finish)
	return l, finish
}

// span is when one request was sent and answered.
type span struct {
	id          string
	began, done time.Time
}

func (l *load) refusals() []span {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]span(nil), l.refused...)
}

func (l *load) counts() (acked, refused, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked), len(l.refused), len(l.failures)
}

// slowestAck is the longest the gateway took to acknowledge a request.
func (l *load) slowestAck() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.slowest
}

func (l *load) ackedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acked...)
}

// waitAcked waits until the load has n more acknowledged requests than it had.
func (l *load) waitAcked(t *testing.T, n int, within time.Duration) {
	t.Helper()
	base, _, _ := l.counts()
	waitFor(t, within, fmt.Sprintf("%d more acknowledged requests", n), func() error {
		if acked, _, _ := l.counts(); acked < base+n {
			return fmt.Errorf("%d of %d", acked-base, n)
		}
		return nil
	})
}

// replyLatencies reads tp.out until every acknowledged ID is answered and returns, per
// ID, the number of replies and the longest time from the gateway's acknowledgement
// to the first reply's arrival at this reader. The reader follows the topic live, so
// that time includes any stall of the request's partition.
func (l *load) replyLatencies(t *testing.T, brokers string, tp topics, within time.Duration) (counts map[string]int, worst time.Duration, worstID string) {
	t.Helper()
	want := l.ackedIDs()
	l.mu.Lock()
	ackedAt := make(map[string]time.Time, len(l.ackedAt))
	for id, at := range l.ackedAt {
		ackedAt[id] = at
	}
	l.mu.Unlock()
	counts = map[string]int{}
	firstSeen := map[string]time.Time{}
	read, missing := 0, len(want)
	wanted := make(map[string]bool, len(want))
	for _, id := range want {
		wanted[id] = true
	}
	readUntil(t, brokers, tp.out, within, func(seen []*sarama.ConsumerMessage) bool {
		for _, msg := range seen[read:] {
			id := string(msg.Key)
			counts[id]++
			if counts[id] == 1 {
				firstSeen[id] = msg.Timestamp
				if wanted[id] {
					missing--
				}
			}
		}
		read = len(seen)
		return missing == 0
	})
	for _, id := range want {
		// The reply record's timestamp is when the worker's producer made it.
		if d := firstSeen[id].Sub(ackedAt[id]); d > worst {
			worst, worstID = d, id
		}
	}
	// Duplicates are counted on the whole topic, not on what the live reader had
	// seen when the last ID arrived.
	return countsToHighWater(t, brokers, tp.out), worst, worstID
}

func duplicatesOf(counts map[string]int, ids []string) int { return testkit.Duplicates(counts, ids) }

// stopAll sends SIGTERM to every service at once and fails the test unless each exits
// 0 within within.
func stopAll(t *testing.T, within time.Duration, services ...*service) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(services))
	for i, s := range services {
		wg.Go(func() { errs[i] = s.stop(syscall.SIGTERM, within) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s #%d: %v", services[i].name, i, err)
		}
	}
}
