package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/backoff"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/worker/internal/deadletter"
	"github.com/streamgate/streamgate/services/worker/internal/tracker"
)

// claimLoop processes one claimed partition. Everything in it is owned by the
// ConsumeClaim goroutine; Dispatch only touches a pending between the send and its
// return on results.
//
// It reads claim.Messages() in every state, because under cooperative rebalancing the
// channel's close is the only sign that the partition was revoked, and sarama cancels
// the whole session when a revoked claim does not return within the rebalance timeout.
// While the claim cannot take records (too many pending, or a failed write waiting for
// its retry), what it reads waits in backlog; the partition's fetching is paused while
// the backlog holds a record and a retry waits, or holds ReadAhead records, so the
// backlog stays bounded by ReadAhead plus what sarama had already fetched.
type claimLoop struct {
	opts  *Options
	log   *zap.Logger
	sess  sarama.ConsumerGroupSession
	claim sarama.ConsumerGroupClaim

	records <-chan *sarama.ConsumerMessage // claim.Messages(); nil once it closed
	backlog []*sarama.ConsumerMessage      // read but not taken yet, in offset order
	fetch   fetchSwitch                    // pauses the partition's fetching; nil if the claim cannot
	paused  bool

	pending  *tracker.Tracker // offsets taken and not yet markable
	results  chan *pending
	inFlight int // sent to the producer, outcome not back yet

	retries    []*pending // failed writes waiting for retryTimer
	retryTimer *time.Timer
	retryC     <-chan time.Time // retryTimer.C while armed, else nil
	backoff    *backoff.Backoff

	partition *partitionState
	received  prometheus.Counter
	replies   prometheus.Counter
	lastErr   error // the latest failed write, for the stuck-partition warning
}

func newClaimLoop(h *Handler, sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) *claimLoop {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	return &claimLoop{
		opts:    &h.opts,
		log:     h.opts.Log,
		sess:    sess,
		claim:   claim,
		records: claim.Messages(),
		fetch:   fetchSwitchOf(claim),
		pending: tracker.New(h.opts.MaxInFlight),
		// Room for an outcome of every pending record, so Dispatch never blocks.
		results:    make(chan *pending, h.opts.MaxInFlight),
		retryTimer: timer,
		backoff:    backoff.New(h.opts.RetryMin, h.opts.RetryMax),
		partition:  newPartitionState(h.opts.Metrics, claim, h.opts.StuckThreshold, h.opts.Log),
		received:   h.opts.Metrics.RecordsReceived.WithLabelValues(claim.Topic()),
		replies:    h.opts.Metrics.RepliesPublished.WithLabelValues(h.opts.OutTopic),
	}
}

// fetchSwitch is the part of sarama's PartitionConsumer, which its group claims embed,
// that stops and restarts fetching one partition.
type fetchSwitch interface {
	Pause()
	Resume()
}

func fetchSwitchOf(claim sarama.ConsumerGroupClaim) fetchSwitch {
	if f, ok := claim.(fetchSwitch); ok {
		return f
	}
	return nil
}

// run takes records and settles their writes until the session ends or the claim is
// revoked or released (claim.Messages() closes).
func (c *claimLoop) run() {
	defer c.retryTimer.Stop()
	observe := time.NewTicker(c.opts.ObserveInterval)
	defer observe.Stop()
	ctx := c.sess.Context()
	for c.takeBacklog(ctx) {
		select {
		case <-ctx.Done():
			return
		case rec, ok := <-c.readable():
			if !c.queue(rec, ok) {
				return
			}
		case now := <-observe.C:
			c.observe(now)
		case p := <-c.results:
			c.settled()
			switch {
			case p.err == nil:
				c.acknowledged(p)
			case p.replyTo && !p.deadLetter() && unwritable(p.err):
				// The requester named a topic this worker cannot write to; retrying would
				// hold the partition forever.
				if !c.deadLetterReply(ctx, p) {
					return
				}
			case p.deadLetter() && deadletter.TooLarge(p.err):
				// Retrying would fail forever and hold the partition.
				if p.stripped {
					c.skip(p)
				} else if !c.shrink(ctx, p) {
					return
				}
			default:
				c.scheduleRetry(p)
			}
		case <-c.retryC:
			c.retryC = nil
			if !c.retry(ctx) {
				return
			}
		}
	}
}

// drain waits, for at most DrainTimeout, for the outcomes of writes already sent and
// marks what they finish. Failed writes are not retried: the partition may belong to
// another member by now, and what is unmarked is redelivered.
func (c *claimLoop) drain() {
	for _, p := range c.retries { // never sent again: the record will be redelivered
		p.settle(p.err)
	}
	c.retries = nil
	if c.inFlight == 0 {
		return
	}
	timeout := time.NewTimer(c.opts.DrainTimeout)
	defer timeout.Stop()
	for c.inFlight > 0 {
		select {
		case p := <-c.results:
			c.settled()
			if p.err != nil {
				c.log.Warn("publish failed as the claim ended; the record will be redelivered",
					c.publishFields(p, zap.Error(p.err))...)
				p.settle(p.err)
				continue
			}
			c.acknowledged(p)
		case <-timeout.C:
			c.log.Warn("stopped waiting for acknowledgements; unmarked records will be redelivered",
				zap.String("topic", c.claim.Topic()),
				zap.Int32("partition", c.claim.Partition()),
				zap.Int("in_flight", c.inFlight),
				zap.Duration("waited", c.opts.DrainTimeout))
			// Their outcomes will reach nobody: they are no longer this worker's.
			c.opts.Metrics.WritesInFlight.Sub(float64(c.inFlight))
			return
		}
	}
}

// readable is the claim's channel, or nil while the backlog is full for a claim that
// cannot pause its fetching (only fakes cannot).
func (c *claimLoop) readable() <-chan *sarama.ConsumerMessage {
	if c.fetch == nil && len(c.backlog) >= c.opts.ReadAhead {
		return nil
	}
	return c.records
}

// queue adds rec, read from the claim, to the backlog; ok false means the claim was
// revoked or released, and the loop must end.
func (c *claimLoop) queue(rec *sarama.ConsumerMessage, ok bool) bool {
	if !ok {
		c.records = nil
		return false
	}
	c.backlog = append(c.backlog, rec)
	return true
}

// pauseFetching stops (or restarts) fetching the partition, when the claim can.
func (c *claimLoop) pauseFetching(pause bool) {
	if c.fetch == nil || pause == c.paused {
		return
	}
	if pause {
		c.fetch.Pause()
	} else {
		c.fetch.Resume()
	}
	c.paused = pause
}

// holdingTooMuch reports whether the partition's fetching should pause: the claim holds
// a record while a write waits for its retry (more would only pile up behind a failing
// broker), or it holds ReadAhead records it cannot take yet. With nothing held it keeps
// fetching even while retrying: a paused partition is fetched again only after the
// retry, and sarama's fetcher may be napping then (every partition paused), so records
// would reach the claim a retry later, or, with retries failing at once, never.
func (c *claimLoop) holdingTooMuch() bool {
	if len(c.retries) > 0 {
		return len(c.backlog) > 0
	}
	return len(c.backlog) >= c.opts.ReadAhead
}

// takeBacklog takes queued records while there is room and no retry waits: more
// records would only pile up behind a broker that is failing. Fetching is paused while
// records wait. It returns false when the loop must end.
func (c *claimLoop) takeBacklog(ctx context.Context) bool {
	for len(c.backlog) > 0 && len(c.retries) == 0 && !c.pending.Full() {
		rec := c.backlog[0]
		c.backlog[0] = nil
		c.backlog = c.backlog[1:]
		if !c.take(ctx, rec) {
			return false
		}
	}
	c.pauseFetching(c.holdingTooMuch())
	return true
}

// takenFields are the fields of a line about rec as it is taken, with its status.
func takenFields(p *pending, rec *sarama.ConsumerMessage, status zap.Field) []zap.Field {
	return []zap.Field{
		logging.CorrelationID(p.id),
		tracing.LogFields(p.ctx),
		logging.Topic(rec.Topic),
		zap.Int32("partition", rec.Partition),
		zap.Int64("offset", rec.Offset),
		logging.Operation(logging.OperationSubscribe),
		status,
	}
}

// take starts processing rec: it prepares the reply or dead letter and sends it.
func (c *claimLoop) take(ctx context.Context, rec *sarama.ConsumerMessage) bool {
	p := newPending(rec, c.opts, c.results)
	c.received.Inc()
	c.partition.taken(rec.Offset)
	// The two lines per record are debug lines: at info they halved the worker's drain
	// rate (make bench). Dead letters, retries and failures are logged above debug.
	if line := c.log.Check(zap.DebugLevel, "received"); line != nil {
		line.Write(takenFields(p, rec, logging.Status(messages.StatusReceived))...)
	}
	if p.deadLetter() {
		c.log.Warn("malformed record; sending it to the dead-letter topic", append(takenFields(p, rec, logging.Status(messages.StatusFailed)),
			zap.String("dlq_topic", c.opts.DLQTopic),
			zap.NamedError("reason", p.reason))...)
	}
	if err := c.pending.Add(rec.Offset, time.Now()); err != nil {
		// Unreachable: records are taken only while there is room, and a partition
		// delivers increasing offsets. Rather than risk marking a record that was never
		// answered, leave: sarama ends the session when a claim returns unrevoked, and
		// the next session resumes from the last commit.
		c.log.Error("cannot track record; leaving the claim", logging.CorrelationID(p.id), zap.Error(err))
		return false
	}
	return c.send(ctx, p)
}

// send hands one attempt of p's write to the producer. A producer that takes nothing
// (stuck behind a broker) must not hide a revocation, so it keeps reading the claim.
func (c *claimLoop) send(ctx context.Context, p *pending) bool {
	msg := p.out
	msg.Metadata = p
	// Both before the send: from then on Dispatch may hold p and its outcome may be back.
	p.attempts++
	c.opts.Metrics.WritesInFlight.Inc()
	for {
		select {
		case c.opts.Producer.Input() <- &msg:
			c.inFlight++
			return true
		case rec, ok := <-c.readable():
			if c.queue(rec, ok) {
				c.pauseFetching(c.holdingTooMuch())
				continue
			}
		case <-ctx.Done():
		}
		c.opts.Metrics.WritesInFlight.Dec()
		return false
	}
}

// acknowledged finishes p: its write is durable, so its offset may be marked once
// every earlier record of the partition is finished too.
func (c *claimLoop) acknowledged(p *pending) {
	c.backoff.Reset()
	if p.deadLetter() {
		c.opts.Metrics.DeadLetters.WithLabelValues(deadletter.Reason(p.reason)).Inc()
		c.log.Info("published dead letter", c.publishFields(p, logging.Status(messages.StatusFailed))...)
	} else {
		c.replies.Inc()
		if line := c.log.Check(zap.DebugLevel, "published reply"); line != nil {
			line.Write(c.publishFields(p, logging.Status(messages.StatusCompleted))...)
		}
	}
	p.settle(nil)
	c.finish(p)
}

// settled notes that one write sent to the producer came back.
func (c *claimLoop) settled() {
	c.inFlight--
	c.opts.Metrics.WritesInFlight.Dec()
}

// observe refreshes the partition's lag, oldest unfinished age and stuck state.
func (c *claimLoop) observe(now time.Time) {
	offset, taken, ok := c.pending.Oldest()
	c.partition.observe(now, c.claim.HighWaterMarkOffset(), offset, taken, ok, c.lastErr)
}

// finish marks p's offset once every earlier record of the partition is finished too.
func (c *claimLoop) finish(p *pending) {
	if next, ok := c.pending.Done(p.rec.Offset); ok {
		c.partition.marked(next)
		c.observe(time.Now())
		c.sess.MarkOffset(c.claim.Topic(), c.claim.Partition(), next, "")
	}
}

// scheduleRetry queues p's failed write for another attempt after a backoff. The
// record stays pending, which holds its offset and every later one unmarked.
func (c *claimLoop) scheduleRetry(p *pending) {
	c.retries = append(c.retries, p)
	c.lastErr = p.err
	c.opts.Metrics.PublishRetries.WithLabelValues(p.out.Topic).Inc()
	p.send.RecordError(p.err)
	if c.retryC == nil {
		delay := c.backoff.Next()
		c.retryTimer.Reset(delay)
		c.retryC = c.retryTimer.C
	}
	c.log.Warn("publish failed; will retry",
		c.publishFields(p, zap.Int("attempt", p.attempts), zap.Error(p.err))...)
}

// shrink sends p's dead letter again without the record's value, which made it too
// large to write.
func (c *claimLoop) shrink(ctx context.Context, p *pending) bool {
	c.log.Error("dead letter too large; sending it without the record's key, value and headers",
		c.publishFields(p, logging.Status(messages.StatusFailed),
			zap.Int("key_bytes", len(p.rec.Key)), zap.Int("value_bytes", len(p.rec.Value)), zap.Error(p.err))...)
	p.out = *deadletter.Stripped(c.opts.DLQTopic, p.rec, p.reason, p.id)
	c.opts.Tracing.Inject(p.sendCtx, &p.out)
	p.stripped = true
	return c.send(ctx, p)
}

// deadLetterReply sends the request whose reply its reply_to topic refused to the
// dead-letter topic instead, with the refusal as the reason.
func (c *claimLoop) deadLetterReply(ctx context.Context, p *pending) bool {
	p.reason = fmt.Errorf("reply to the reply_to topic %q refused: %w", p.out.Topic, p.err)
	c.log.Error("reply_to topic refused the reply; sending the request to the dead-letter topic",
		c.publishFields(p, logging.Status(messages.StatusFailed), zap.Error(p.err), zap.String("dlq_topic", c.opts.DLQTopic))...)
	p.out = *deadletter.Message(c.opts.DLQTopic, p.rec, p.reason)
	return c.send(ctx, p)
}

// unwritable reports whether a producer error means the topic itself refuses the
// worker: it does not exist (and is not created on demand), is invalid, or the worker
// may not write to it.
func unwritable(err error) bool {
	return errors.Is(err, sarama.ErrUnknownTopicOrPartition) || errors.Is(err, sarama.ErrInvalidTopic) ||
		errors.Is(err, sarama.ErrTopicAuthorizationFailed)
}

// skip gives up on a record whose dead letter is refused even stripped, so that one
// record cannot hold its partition forever. Only its log line is left.
func (c *claimLoop) skip(p *pending) {
	c.log.Error("dead letter refused even stripped; skipping the record",
		c.publishFields(p, logging.Status(messages.StatusFailed), zap.Error(p.err), zap.NamedError("reason", p.reason))...)
	p.settle(p.err)
	c.finish(p)
}

// retry sends every queued write again.
func (c *claimLoop) retry(ctx context.Context) bool {
	batch := c.retries
	c.retries = nil
	for _, p := range batch {
		if !c.send(ctx, p) {
			return false
		}
	}
	return true
}

// publishFields describes p's write: where it went and which record it answers.
func (c *claimLoop) publishFields(p *pending, extra ...zap.Field) []zap.Field {
	fields := []zap.Field{
		logging.CorrelationID(p.id),
		tracing.LogFields(p.sendCtx),
		logging.Topic(p.out.Topic),
		logging.Operation(logging.OperationPublish),
	}
	if p.err == nil && p.sent != nil {
		fields = append(fields, zap.Int32("partition", p.sent.Partition), zap.Int64("offset", p.sent.Offset))
	}
	fields = append(fields, zap.Int32("source_partition", p.rec.Partition), zap.Int64("source_offset", p.rec.Offset))
	return append(fields, extra...)
}
