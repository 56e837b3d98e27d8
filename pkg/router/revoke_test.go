package router

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// Under cooperative rebalancing sarama revokes one partition by closing its claim's
// Messages() while the session (and its context) goes on. The claim must notice in
// every state and return within DrainTimeout, or sarama cancels the whole session.
// These tests never end the session.

const revokeDrain = 200 * time.Millisecond

// revoked closes the claim's channel, as sarama does for a revoked partition, and
// checks that ConsumeClaim returns within the drain timeout and says why.
func (h *harness) revoked(notTaken int) {
	h.t.Helper()
	close(h.claim.messages)
	h.returns(revokeDrain + waitTimeout/2)
	checkFields(h.t, h.logLine("claim finished"), map[string]any{"revoked": true, "not_taken": int64(notTaken)})
}

// Full: a record is in flight at the cap and another waits unread by the pipeline.
func TestRevokedWhileFull(t *testing.T) {
	h := start(t, Config{MaxInFlight: 1, ReadAhead: 1, DrainTimeout: revokeDrain})
	h.feed(request(t, 0, "a"))
	h.prod.next(t) // never acknowledged
	h.feed(request(t, 1, "b"))
	h.waitPaused(true)

	h.revoked(1)
	h.expectNoMark(10 * time.Millisecond)
	h.prod.none(t, 20*time.Millisecond) // b is left to the partition's next owner
}

// Retrying: a failed write waits for a retry far in the future; the next record is
// handled, its output held behind the retry. Nothing is in flight, so the claim returns
// at once, long before a drain timeout it has no reason to wait.
func TestRevokedWhileRetrying(t *testing.T) {
	opts, _, recorder := observed(t)
	opts.WriteRetryMin, opts.WriteRetryMax, opts.DrainTimeout = time.Minute, time.Minute, time.Minute
	h := start(t, opts)
	h.feed(request(t, 0, "a"))
	h.prod.fail(h.prod.next(t), errors.New("down"))
	h.waitLog("publish failed; will retry")
	h.feed(request(t, 1, "b"))

	h.revoked(0)
	h.expectNoMark(10 * time.Millisecond)
	h.prod.none(t, 20*time.Millisecond) // the retry is abandoned
	// The abandoned records' process spans (b's handler call, run or not, has no span
	// of its own: it is a first attempt) and a's send span.
	if ended := recorder.Ended(); len(ended) != 3 {
		t.Errorf("%d spans ended, want the abandoned records' process spans and a's send span", len(ended))
	}
}

// Draining: the writes in flight at the revocation are waited for and marked if they
// succeed in time; the rest is left unmarked.
func TestRevokedWhileDraining(t *testing.T) {
	h := start(t, Config{DrainTimeout: revokeDrain})
	h.feed(request(t, 0, "a"))
	h.feed(request(t, 1, "b"))
	a := h.prod.next(t)
	h.prod.next(t) // b: never acknowledged

	close(h.claim.messages)
	h.prod.succeed(a, 0)
	h.expectMark(1)
	h.returns(revokeDrain + waitTimeout/2)
	h.expectNoMark(10 * time.Millisecond)
}

// Sending: the producer takes nothing more (its buffer is full behind a dead broker),
// so the delivery is blocked handing over a write; the claim still reads, and returns.
func TestRevokedWhileSendBlocked(t *testing.T) {
	h := start(t, Config{ReadAhead: 1, DrainTimeout: revokeDrain})
	for o := range int64(cap(h.prod.input)) + 1 {
		h.feed(request(t, o, fmt.Sprintf("id-%d", o)))
	}
	h.feed(request(t, 1000, "read-while-blocked")) // the claim still reads

	h.revoked(0)
	h.expectNoMark(10 * time.Millisecond)
}

// A claim that cannot pause its fetching (sarama's always can) is read only while its
// backlog has room, so what the claim holds stays bounded.
func TestClaimWithoutPauseStopsReadingWhenBacklogIsFull(t *testing.T) {
	h := startClaim(t, Config{MaxInFlight: 1, ReadAhead: 1}, func(c *fakeClaim) sarama.ConsumerGroupClaim {
		return struct{ sarama.ConsumerGroupClaim }{c} // hides Pause and Resume
	})
	h.feed(request(t, 0, "a"))
	a := h.prod.next(t)
	h.feed(request(t, 1, "b")) // held: a is pending at the cap
	select {
	case h.claim.messages <- request(t, 2, "c"):
		t.Fatal("read a record with a full backlog and no way to pause fetching")
	case <-time.After(50 * time.Millisecond):
	}
	h.prod.succeed(a, 0)
	h.expectMark(1)
	h.feed(request(t, 2, "c"))
}
