package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// text is a codec for routes whose bodies are plain strings.
var text = CodecFuncs(func(s string) ([]byte, error) { return []byte(s), nil },
	func(b []byte) (string, error) { return string(b), nil })

// stringRoute registers a route of strings on in-topic with handler h and options set.
func stringRoute(h Handler[string, string], set func(*Route[string, string])) func(*Router) error {
	return func(r *Router) error {
		rt := Route[string, string]{
			Name: "test", Topic: "in-topic", ReplyTopic: "out-topic", DeadLetterTopic: "in-topic.dlq",
			Request: text, Reply: text, Handler: h,
			Retry: Retry{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		}
		if set != nil {
			set(&rt)
		}
		return Register(r, rt)
	}
}

func startString(t *testing.T, cfg Config, h Handler[string, string], set func(*Route[string, string])) *harness {
	t.Helper()
	return startRoute(t, cfg, stringRoute(h, set), func(c *fakeClaim) sarama.ConsumerGroupClaim { return c })
}

func keyed(offset int64, key, value string) *sarama.ConsumerMessage {
	return record(offset, key, []byte(value), nil)
}

// ackAll acknowledges every write until the test ends and returns what was written,
// in the order it was sent.
func (h *harness) ackAll() func() []*sarama.ProducerMessage {
	var mu sync.Mutex
	var sent []*sarama.ProducerMessage
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case m := <-h.prod.input:
				mu.Lock()
				sent = append(sent, m)
				mu.Unlock()
				select {
				case h.prod.successes <- m:
				case <-stop:
					return
				}
			case <-stop:
				return
			}
		}
	}()
	h.t.Cleanup(func() { close(stop); <-done })
	return func() []*sarama.ProducerMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]*sarama.ProducerMessage(nil), sent...)
	}
}

// waitMark waits until offset is marked, skipping the marks before it.
func (h *harness) waitMark(offset int64) {
	h.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case m := <-h.sess.marks:
			if m.offset > offset {
				h.t.Fatalf("marked %d, past %d", m.offset, offset)
			}
			if m.offset == offset {
				return
			}
		case <-deadline:
			h.t.Fatalf("offset %d not marked", offset)
		}
	}
}

// Under concurrency, every key's records are handled one at a time in offset order,
// while records of different keys run at the same time, at most Concurrency of them.
func TestByKeyKeepsOrderPerKeyUnderConcurrency(t *testing.T) {
	const records, keys, concurrency = 300, 12, 6
	var mu sync.Mutex
	calls := map[string][]int64{}
	running := map[string]bool{}
	var inFlight, peak atomic.Int32
	var overlapSameKey atomic.Bool
	h := startString(t, Config{}, func(_ context.Context, m Message[string]) (string, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		key := string(m.Key)
		mu.Lock()
		if running[key] {
			overlapSameKey.Store(true)
		}
		running[key] = true
		calls[key] = append(calls[key], m.Offset)
		mu.Unlock()
		time.Sleep(time.Duration(m.Offset%3) * time.Millisecond)
		mu.Lock()
		running[key] = false
		mu.Unlock()
		return m.Body, nil
	}, func(rt *Route[string, string]) { rt.Concurrency = concurrency })
	sent := h.ackAll()
	for o := range int64(records) {
		h.feed(keyed(o, fmt.Sprintf("k%d", o%keys), fmt.Sprint(o)))
	}
	h.waitMark(records)

	if overlapSameKey.Load() {
		t.Error("two calls of one key ran at the same time")
	}
	if p := peak.Load(); p < 2 || p > concurrency {
		t.Errorf("at most %d calls ran at once, want 2..%d", p, concurrency)
	}
	total := 0
	for key, offsets := range calls {
		total += len(offsets)
		for i := 1; i < len(offsets); i++ {
			if offsets[i] <= offsets[i-1] {
				t.Errorf("key %s handled out of order: %v", key, offsets)
				break
			}
		}
	}
	if total != records || len(sent()) != records {
		t.Errorf("%d calls, %d replies; want %d each", total, len(sent()), records)
	}
}

// A slow record holds the committed offset, never the records after it: they are
// handled and answered meanwhile, and the mark jumps once it finishes.
func TestOffsetNeverPassesTheLowestUnfinishedRecord(t *testing.T) {
	release := make(chan struct{})
	h := startString(t, Config{}, func(ctx context.Context, m Message[string]) (string, error) {
		if m.Offset == 0 {
			<-release
		}
		return m.Body, nil
	}, nil)
	sent := h.ackAll()
	for o := range int64(20) {
		h.feed(keyed(o, fmt.Sprintf("k%d", o), fmt.Sprint(o)))
	}
	deadline := time.Now().Add(waitTimeout)
	for len(sent()) < 19 {
		if time.Now().After(deadline) {
			t.Fatalf("%d replies while offset 0 runs, want the 19 after it", len(sent()))
		}
		time.Sleep(time.Millisecond)
	}
	h.expectNoMark(50 * time.Millisecond)
	close(release)
	h.expectMark(20)
}

// A key whose handler keeps failing retries with backoff while the other keys flow; its
// next record waits for it; the offset stays behind it until it succeeds.
func TestRetryingKeyHoldsUpOnlyItself(t *testing.T) {
	var badCalls atomic.Int32
	unblock := make(chan struct{})
	h := startString(t, Config{}, func(_ context.Context, m Message[string]) (string, error) {
		if m.Body == "bad-0" {
			if badCalls.Add(1) < 3 {
				return "", errors.New("dependency unavailable") // unclassified: retried
			}
			<-unblock
		}
		return m.Body, nil
	}, func(rt *Route[string, string]) {
		rt.Retry = Retry{MaxAttempts: 5, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	})
	sent := h.ackAll()
	h.feed(keyed(0, "bad", "bad-0"))
	h.feed(keyed(1, "bad", "bad-1"))
	for o := int64(2); o < 12; o++ {
		h.feed(keyed(o, fmt.Sprintf("good-%d", o), fmt.Sprint(o)))
	}
	deadline := time.Now().Add(waitTimeout)
	for len(sent()) < 10 || badCalls.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d replies, %d calls of the failing key; want the 10 other keys answered", len(sent()), badCalls.Load())
		}
		time.Sleep(time.Millisecond)
	}
	for _, m := range sent() {
		if v := encoded(t, m.Value); strings.HasPrefix(v, "bad") {
			t.Fatalf("%s answered while bad-0 has not finished", v)
		}
	}
	h.expectNoMark(30 * time.Millisecond)
	close(unblock)
	h.waitMark(12)
	got := sent()
	if a, b := encoded(t, got[10].Value), encoded(t, got[11].Value); a != "bad-0" || b != "bad-1" {
		t.Errorf("the failing key's replies came %s, %s; want bad-0 then bad-1", a, b)
	}
	if n := testutil.ToFloat64(h.metrics.HandlerRetries.WithLabelValues("test")); n != 2 {
		t.Errorf("handler retries = %v, want 2", n)
	}
}

// Unordered runs records of one key at the same time.
func TestUnorderedRunsOneKeyConcurrently(t *testing.T) {
	var inFlight, peak atomic.Int32
	h := startString(t, Config{}, func(_ context.Context, m Message[string]) (string, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		return m.Body, nil
	}, func(rt *Route[string, string]) { rt.Ordering, rt.Concurrency = Unordered, 4 })
	h.ackAll()
	for o := range int64(40) {
		h.feed(keyed(o, "same", fmt.Sprint(o)))
	}
	h.waitMark(40)
	if p := peak.Load(); p < 2 || p > 4 {
		t.Errorf("peak %d calls of one key at once, want 2..4", p)
	}
}

// ByPartition is one call at a time, whatever the keys.
func TestByPartitionIsSequential(t *testing.T) {
	var inFlight, peak atomic.Int32
	var order []int64
	h := startString(t, Config{}, func(_ context.Context, m Message[string]) (string, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		order = append(order, m.Offset) // one call at a time: no lock needed, -race checks it
		time.Sleep(time.Millisecond)
		return m.Body, nil
	}, func(rt *Route[string, string]) { rt.Ordering, rt.Concurrency = ByPartition, 8 })
	h.ackAll()
	for o := range int64(20) {
		h.feed(keyed(o, fmt.Sprint(o), fmt.Sprint(o)))
	}
	h.waitMark(20)
	if peak.Load() != 1 {
		t.Errorf("peak %d calls at once, want 1", peak.Load())
	}
	for i, o := range order {
		if o != int64(i) {
			t.Fatalf("call order %v", order)
		}
	}
}
