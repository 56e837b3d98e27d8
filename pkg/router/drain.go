package router

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// drain ends the claim: no call starts and no backoff wait goes on; it waits for the
// running calls (at most 3/4 of DrainTimeout, then cancels their ctx), hands what they
// finished to the delivery, and gives the delivery the rest of DrainTimeout to finish.
// What is unfinished then is redelivered to the partition's next owner.
func (c *claimLoop) drain() {
	close(c.stopping)
	var laneExited <-chan struct{}
	if c.lane != nil {
		c.lane.close()
		laneExited = c.lane.exited
	}
	for _, t := range c.sched.waiting() {
		tracing.End(t.span, context.Canceled)
	}
	start := time.Now()
	calls := time.NewTimer(c.cfg.DrainTimeout * 3 / 4)
	defer calls.Stop()
	for c.running > 0 || laneExited != nil {
		select {
		case t := <-c.handled:
			c.callReturned(t)
		case <-laneExited:
			laneExited = nil
		case <-c.done.ready:
			c.finishDone()
		case <-calls.C:
			running := c.running
			if laneExited != nil {
				running++
			}
			c.log.Warn("handler calls still running as the claim ends; cancelling them",
				zap.String("topic", c.claim.Topic()), zap.Int32("partition", c.claim.Partition()),
				zap.Int("running", running), zap.Duration("waited", time.Since(start)))
			c.abortCalls()
			c.awaitAborted(laneExited)
			c.running, laneExited = 0, nil
		}
	}
	c.delivery.Close(max(c.cfg.DrainTimeout-time.Since(start), c.cfg.DrainTimeout/4))
	c.finishDone()
	// Handed over and dropped by the delivery, or finished and waiting for an earlier
	// record (InOrder): redelivered.
	for t := range c.unfinished.Unfinished() {
		if t.handedOver || t.completed {
			tracing.End(t.span, context.Canceled)
		}
	}
}

// awaitAborted waits briefly for calls whose ctx was cancelled; a handler that ignores
// its ctx is left behind (its result reaches nobody).
func (c *claimLoop) awaitAborted(laneExited <-chan struct{}) {
	grace := time.NewTimer(time.Second)
	defer grace.Stop()
	for c.running > 0 || laneExited != nil {
		select {
		case t := <-c.handled:
			c.running--
			tracing.End(t.span, context.Canceled)
		case <-laneExited:
			laneExited = nil
		case <-grace.C:
			if c.lane != nil {
				c.lane.abandon()
			}
			c.log.Error("handler calls ignore their cancelled ctx; leaving them behind",
				zap.String("route", c.rt.name), zap.Int("running", max(c.running, 1)), zap.Error(errIgnoresCtx))
			return
		}
	}
}

var errIgnoresCtx = errors.New("handler did not return after its ctx was cancelled")
