package router

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// deadLetterOf waits for the next write, checks that it is a dead letter of offset 0
// with reason, acknowledges it and returns its dlq_error.
func (h *harness) deadLetterOf(reason string) string {
	h.t.Helper()
	m := h.prod.next(h.t)
	if m.Topic != "in-topic.dlq" {
		h.t.Fatalf("wrote to %s, want the dead-letter topic", m.Topic)
	}
	h.prod.succeed(m, 0)
	h.expectMark(1)
	if got := testutil.ToFloat64(h.metrics.DeadLetters.WithLabelValues(reason, "test")); got != 1 {
		h.t.Errorf("dead letters{reason=%s} = %v, want 1", reason, got)
	}
	return headerMap(m.Headers)["dlq_error"]
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	h := startString(t, Config{}, func(context.Context, Message[string]) (string, error) {
		calls.Add(1)
		return "", Permanent(errors.New("order 7 does not exist"))
	}, nil)
	h.feed(keyed(0, "k", "x"))
	if got := h.deadLetterOf("handler_permanent"); !strings.Contains(got, "order 7 does not exist") {
		t.Errorf("dlq_error = %q", got)
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls, want 1", calls.Load())
	}
}

func TestRetriesRunOutThenDeadLetter(t *testing.T) {
	var attempts []int
	h := startString(t, Config{}, func(_ context.Context, m Message[string]) (string, error) {
		attempts = append(attempts, m.Attempt)
		return "", Retryable(errors.New("timeout talking to the stock service"))
	}, nil)
	h.feed(keyed(0, "k", "x"))
	if got := h.deadLetterOf("retries_exhausted"); !strings.Contains(got, "stock service") {
		t.Errorf("dlq_error = %q", got)
	}
	if len(attempts) != 3 || attempts[0] != 1 || attempts[2] != 3 {
		t.Errorf("attempts %v, want 1 2 3", attempts)
	}
	if got := testutil.ToFloat64(h.metrics.HandlerCalls.WithLabelValues("test", OutcomeRetryable)); got != 3 {
		t.Errorf("calls{retryable_error} = %v, want 3", got)
	}
}

func TestOnExhaustedBuildsTheReply(t *testing.T) {
	h := startString(t, Config{}, func(context.Context, Message[string]) (string, error) {
		return "", errors.New("still down")
	}, func(rt *Route[string, string]) {
		rt.OnExhausted = func(_ context.Context, m Message[string], err error) (string, error) {
			return "Failed: " + m.Body + ": " + err.Error(), nil
		}
	})
	h.feed(keyed(0, "k", "x"))
	m := h.prod.next(t)
	if m.Topic != "out-topic" || encoded(t, m.Value) != "Failed: x: still down" {
		t.Errorf("wrote %s to %s, want the Failed reply on out-topic", encoded(t, m.Value), m.Topic)
	}
	h.prod.succeed(m, 0)
	h.expectMark(1)
}

// A call that outlives Timeout sees its ctx end; the timeout is retryable.
func TestTimeoutEndsTheCallsContext(t *testing.T) {
	var calls atomic.Int32
	h := startString(t, Config{}, func(ctx context.Context, m Message[string]) (string, error) {
		if calls.Add(1) == 1 {
			<-ctx.Done()
			return "", ctx.Err()
		}
		return "ok", nil
	}, func(rt *Route[string, string]) { rt.Timeout = 20 * time.Millisecond })
	h.feed(keyed(0, "k", "x"))
	m := h.prod.next(t)
	if encoded(t, m.Value) != "ok" || calls.Load() != 2 {
		t.Errorf("reply %q after %d calls, want ok after 2", encoded(t, m.Value), calls.Load())
	}
	h.prod.succeed(m, 0)
	h.expectMark(1)
}

func TestPanicIsAPermanentFailure(t *testing.T) {
	h := startString(t, Config{}, func(context.Context, Message[string]) (string, error) {
		var m map[string]int
		m["boom"]++ // nil map write
		return "", nil
	}, nil)
	h.feed(keyed(0, "k", "x"))
	if got := h.deadLetterOf("handler_permanent"); !strings.Contains(got, "handler panicked") {
		t.Errorf("dlq_error = %q", got)
	}
}

// Undecodable records never reach the handler, nor OnExhausted.
func TestDecodeErrorIsDeadLetteredWithoutCalls(t *testing.T) {
	var calls atomic.Int32
	h := startRoute(t, Config{}, func(r *Router) error {
		return Register(r, Route[map[string]int, string]{
			Name: "test", Topic: "in-topic", DeadLetterTopic: "in-topic.dlq",
			Handler: func(context.Context, Message[map[string]int]) (string, error) { calls.Add(1); return "", nil },
			OnExhausted: func(context.Context, Message[map[string]int], error) (string, error) {
				calls.Add(1)
				return "", nil
			},
		})
	}, func(c *fakeClaim) sarama.ConsumerGroupClaim { return c })
	h.feed(keyed(0, "k", "not json"))
	if got := h.deadLetterOf("decode"); !strings.HasPrefix(got, "decode: json:") {
		t.Errorf("dlq_error = %q", got)
	}
	if calls.Load() != 0 {
		t.Errorf("%d calls", calls.Load())
	}
}

// A route without ReplyTopic writes nothing for a handled record, and still marks it.
func TestRouteWithoutReplyTopicOnlyMarks(t *testing.T) {
	h := startString(t, Config{}, func(_ context.Context, m Message[string]) (string, error) { return m.Body, nil },
		func(rt *Route[string, string]) { rt.ReplyTopic = "" })
	h.feed(keyed(0, "k", "x"))
	h.expectMark(1)
	h.prod.none(t, 20*time.Millisecond)
}

// A reply the broker can never take (a correlation ID of 350 KB makes it too large)
// goes to the dead-letter topic with the reason instead of being retried forever.
func TestReplyTooLargeIsDeadLettered(t *testing.T) {
	h := startString(t, Config{}, func(_ context.Context, m Message[string]) (string, error) { return m.Body, nil }, nil)
	h.feed(keyed(0, "k", "x"))
	h.prod.fail(h.prod.next(t), sarama.ErrMessageSizeTooLarge)
	if got := h.deadLetterOf("reply_unwritable"); !strings.Contains(got, `reply to topic "out-topic" refused`) {
		t.Errorf("dlq_error = %q", got)
	}
}

// A reply_to the route does not allow is dead-lettered before the handler runs.
func TestReplyToOutsideThePolicyIsRefused(t *testing.T) {
	for _, to := range []string{"in-topic", "in-topic.dlq", "unrelated", strings.Repeat("t", 249)} {
		t.Run(to[:min(len(to), 20)], func(t *testing.T) {
			var calls atomic.Int32
			h := startString(t, Config{}, func(_ context.Context, m Message[string]) (string, error) {
				calls.Add(1)
				return m.Body, nil
			}, nil)
			rec := keyed(0, "k", "x")
			rec.Headers = append(rec.Headers, &sarama.RecordHeader{Key: []byte("reply_to"), Value: []byte(to)})
			h.feed(rec)
			if got := h.deadLetterOf("reply_to_refused"); !strings.Contains(got, "reply_to topic not allowed") {
				t.Errorf("dlq_error = %q", got)
			}
			if calls.Load() != 0 {
				t.Error("the handler ran for a refused reply_to")
			}
		})
	}
}

// A sender's own dlq_* headers never reach the dead letter: its provenance is the
// worker's.
func TestForgedProvenanceHeadersAreDropped(t *testing.T) {
	h := startString(t, Config{}, func(context.Context, Message[string]) (string, error) {
		return "", Permanent(errors.New("no"))
	}, nil)
	h.feed(record(0, "k", []byte("x"), []sarama.RecordHeader{
		{Key: []byte("dlq_original_topic"), Value: []byte("payments")},
		{Key: []byte("dlq_error"), Value: []byte("forged")},
		{Key: []byte("x-kept"), Value: []byte("1")},
	}))
	m := h.prod.next(t)
	n := map[string]int{}
	for _, hd := range m.Headers {
		n[string(hd.Key)]++
	}
	hs := headerMap(m.Headers)
	if n["dlq_original_topic"] != 1 || n["dlq_error"] != 1 || hs["dlq_original_topic"] != "in-topic" ||
		hs["dlq_error"] == "forged" || hs["x-kept"] != "1" {
		t.Errorf("dead letter headers %v (counts %v)", hs, n)
	}
}

// A claim that ends waits for running calls, delivers what they return, and marks it.
func TestClaimEndWaitsForRunningCalls(t *testing.T) {
	entered := make(chan struct{})
	h := startString(t, Config{DrainTimeout: waitTimeout}, func(_ context.Context, m Message[string]) (string, error) {
		close(entered)
		time.Sleep(50 * time.Millisecond)
		return m.Body, nil
	}, nil)
	h.ackAll()
	h.feed(keyed(0, "k", "x"))
	<-entered
	h.cancel()
	defer func() {
		if t.Failed() {
			for _, l := range h.logs.All() {
				t.Log(l.Message, l.ContextMap())
			}
		}
	}()
	h.expectMark(1)
	h.endSession()
}

// After the drain bound a running call's ctx is cancelled and its record left
// unmarked, for the partition's next owner.
func TestClaimEndCancelsCallsAfterTheDrainBound(t *testing.T) {
	entered := make(chan struct{})
	var cancelled atomic.Bool
	h := startString(t, Config{DrainTimeout: 80 * time.Millisecond}, func(ctx context.Context, m Message[string]) (string, error) {
		close(entered)
		<-ctx.Done()
		cancelled.Store(true)
		return "", ctx.Err()
	}, func(rt *Route[string, string]) { rt.Timeout = -1 })
	h.feed(keyed(0, "k", "x"))
	<-entered
	began := time.Now()
	h.endSession()
	if !cancelled.Load() || time.Since(began) > time.Second {
		t.Errorf("cancelled %v after %v", cancelled.Load(), time.Since(began))
	}
	h.expectNoMark(10 * time.Millisecond)
	h.prod.none(t, 10*time.Millisecond)
}
