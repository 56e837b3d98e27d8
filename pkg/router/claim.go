package router

import (
	"context"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/pkg/router/internal/deadletter"
	"github.com/streamgate/streamgate/pkg/router/internal/tracker"
)

// claimLoop handles one claimed partition: it reads records, takes them while fewer
// than MaxInFlight are unfinished, runs their handler calls under the route's Ordering
// and Concurrency (each call on a goroutine of its own, which the claim owns and waits
// for), hands their outputs to the delivery, and marks an offset once every record
// before it is finished (delivered).
//
// It reads claim.Messages() in every state, because under cooperative rebalancing the
// channel's close is the only sign that the partition was revoked, and sarama cancels
// the whole session when a revoked claim does not return within the rebalance timeout.
// What it reads but cannot take waits in backlog; the partition's fetching is paused
// while the backlog holds ReadAhead records or ReadAheadBytes, so memory stays bounded
// by the read-ahead plus one fetch plus what is in flight (MaxInFlight records,
// MaxInFlightBytes): the claim's share of those bounds (bounds.go).
type claimLoop struct {
	cfg    *Config
	bounds claimBounds // this claim's share of cfg's bounds
	log    *zap.Logger
	rt     *route
	sess   sarama.ConsumerGroupSession
	claim  sarama.ConsumerGroupClaim

	records      <-chan *sarama.ConsumerMessage // claim.Messages(); nil once it closed
	backlog      []*sarama.ConsumerMessage      // read but not taken yet, in offset order
	backlogBytes int
	fetch        fetchSwitch // pauses the partition's fetching; nil if the claim cannot
	paused       bool

	unfinished *tracker.Tracker[*task] // taken and not yet delivered: what may be marked
	sched      *scheduler
	// lane, for a route with Concurrency 1, is the one goroutine that handles the
	// records in offset order, back to back, and hands their outputs to the delivery
	// itself (lane.go): no goroutine per call (which had halved the ping flow's drain
	// rate) and no trip back through this loop. nil otherwise.
	lane *lane
	// Without a lane: calls in flight, and those that returned (room for every
	// unfinished record).
	running int
	handled chan *task
	// ordered holds the taken records in offset order while the delivery wants them
	// InOrder and calls run concurrently; nil otherwise.
	ordered  []*task
	inOrder  bool
	delivery PartitionDelivery
	done     *mailbox[doneWrite] // what the delivery finished
	lastErr  lastError

	// stopping is closed when the claim ends: no call starts, backoff waits end.
	stopping chan struct{}
	// calls is the parent of every call's ctx; cancelled once the claim stops waiting.
	calls      context.Context
	abortCalls context.CancelFunc

	partition *partitionState
	received  prometheus.Counter
	replies   prometheus.Counter // to the route's ReplyTopic; nil without one
}

func runClaim(r *Router, rt *route, d Delivery, sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	cfg := &r.cfg
	calls, abort := context.WithCancel(context.Background())
	bounds := cfg.boundsFor(ownedPartitions(sess))
	c := &claimLoop{
		cfg: cfg, bounds: bounds, log: cfg.Log, rt: rt, sess: sess, claim: claim,
		records:    claim.Messages(),
		fetch:      fetchSwitchOf(claim),
		unfinished: tracker.New[*task](bounds.maxInFlight),
		sched:      newScheduler(rt.ordering),
		inOrder:    d.InOrder(),
		done:       newMailbox[doneWrite](bounds.maxInFlight),
		stopping:   make(chan struct{}),
		calls:      calls, abortCalls: abort,
		partition: newPartitionState(cfg.Metrics, claim, cfg.StuckThreshold, cfg.Log),
		received:  cfg.Metrics.RecordsReceived.WithLabelValues(claim.Topic(), rt.name),
	}
	if rt.replyTopic != "" {
		c.replies = cfg.Metrics.RepliesPublished.WithLabelValues(rt.replyTopic, rt.name)
	}
	defer abort()
	c.delivery = d.Open(Partition{Session: sess, Topic: claim.Topic(), Partition: claim.Partition(),
		Done: func(f *Finished, err error) { c.done.put(doneWrite{f, err}) }})
	if rt.concurrency == 1 {
		c.lane = startLane(c)
	} else {
		c.handled = make(chan *task, bounds.maxInFlight)
	}
	c.log.Info("claim started",
		zap.String("route", rt.name),
		zap.String("topic", claim.Topic()),
		zap.Int32("partition", claim.Partition()),
		zap.Int64("initial_offset", claim.InitialOffset()),
		zap.Int("max_in_flight", bounds.maxInFlight),
		zap.Int("read_ahead", bounds.readAhead))
	c.run()
	c.drain()
	c.partition.release()
	c.log.Info("claim finished",
		zap.String("topic", claim.Topic()),
		zap.Int32("partition", claim.Partition()),
		zap.Bool("revoked", c.records == nil && sess.Context().Err() == nil),
		zap.Int("unfinished", c.unfinished.Len()),
		zap.Int("not_taken", len(c.backlog)))
	return nil
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

// run takes and handles records until the session ends or the claim is revoked or
// released (claim.Messages() closes).
func (c *claimLoop) run() {
	observe := time.NewTicker(c.cfg.ObserveInterval)
	defer observe.Stop()
	ctx := c.sess.Context()
	for {
		c.takeBacklog()
		select {
		case <-ctx.Done():
			return
		case rec, ok := <-c.readable():
			if !ok {
				c.records = nil
				return
			}
			c.backlog = append(c.backlog, rec)
			c.backlogBytes += recordBytes(rec)
		case t := <-c.handled:
			c.callReturned(t)
		case <-c.done.ready:
			c.finishDone()
		case now := <-observe.C:
			c.observe(now)
		}
	}
}

// readable is the claim's channel, or nil while the backlog is full for a claim that
// cannot pause its fetching (only fakes cannot).
func (c *claimLoop) readable() <-chan *sarama.ConsumerMessage {
	if c.fetch == nil && c.backlogFull() {
		return nil
	}
	return c.records
}

func (c *claimLoop) backlogFull() bool {
	return len(c.backlog) >= c.bounds.readAhead || c.backlogBytes >= c.bounds.readAheadBytes
}

// roomFor reports whether a record of size bytes may be taken now: fewer than
// MaxInFlight records and MaxInFlightBytes in flight with it, or nothing in flight.
func (c *claimLoop) roomFor(size int) bool {
	if c.unfinished.Full() {
		return false
	}
	return c.unfinished.Len() == 0 || c.unfinished.Bytes()+size <= c.bounds.maxInFlightBytes
}

// recordBytes is what a record weighs against the byte bounds: its key, value and
// headers.
func recordBytes(rec *sarama.ConsumerMessage) int {
	n := len(rec.Key) + len(rec.Value)
	for _, h := range rec.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// takeBacklog takes queued records while fewer than MaxInFlight are unfinished, starts
// the calls that may run, and pauses fetching while ReadAhead records wait.
func (c *claimLoop) takeBacklog() {
	var now time.Time // one reading for the records taken at once
	for len(c.backlog) > 0 {
		rec := c.backlog[0]
		size := recordBytes(rec)
		if !c.roomFor(size) {
			break
		}
		if now.IsZero() {
			now = time.Now()
		}
		c.backlog[0] = nil
		c.backlog = c.backlog[1:]
		c.backlogBytes -= size
		c.take(rec, size, now)
	}
	c.startCalls()
	c.pauseFetching(c.backlogFull())
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

// take starts tracking rec, of size bytes, taken at now, under a process span that continues its
// trace, and queues its call; a record whose reply_to the route refuses is
// dead-lettered without one.
func (c *claimLoop) take(rec *sarama.ConsumerMessage, size int, now time.Time) {
	ctx := startProcess(c.calls, c.cfg.Tracing, rec, c.cfg.GroupID, c.rt.name)
	t := newTask(ctx, c.rt, rec)
	c.received.Inc()
	c.partition.taken(rec.Offset)
	// Unreachable error: records are taken only while there is room, and a partition
	// delivers increasing offsets.
	_ = c.unfinished.Add(rec.Offset, now, size, t)
	if c.inOrder && c.lane == nil {
		c.ordered = append(c.ordered, t)
	}
	if line := c.log.Check(zap.DebugLevel, "received"); line != nil {
		line.Write(callFields(t.ctx, &t.call, logging.Status(messages.StatusReceived))...)
	}
	topic, err := c.rt.replyTo.target(kafka.Header(rec.Headers, messages.HeaderReplyTo))
	if err != nil {
		t.fin = t.deadLetter(c.rt, deadletter.New(deadletter.ReasonReplyToRefused, err))
	}
	t.replyTopic, t.replyTo = topic, topic != c.rt.replyTopic
	switch {
	case c.lane != nil: // in offset order with the others, refused or not
		c.lane.add(t)
	case t.fin != nil:
		c.completed(t)
	default:
		c.sched.add(t)
	}
}

// startCalls starts ready calls while fewer than Concurrency run.
func (c *claimLoop) startCalls() {
	for c.running < c.rt.concurrency {
		select {
		case <-c.stopping:
			return
		default:
		}
		t := c.sched.next()
		if t == nil {
			return
		}
		t.started = true
		c.running++
		retries := c.cfg.Metrics.HandlerRetries.WithLabelValues(c.rt.name)
		go func() {
			t.handle(c.rt, c.stopping, retries.Inc)
			c.handled <- t // never blocks: room for every unfinished record
		}()
	}
}

// callReturned notes a call that returned: its key may run its next record, and its
// output goes to the delivery.
func (c *claimLoop) callReturned(t *task) {
	c.running--
	c.sched.done(t)
	if c.returned(t) {
		c.completed(t)
	}
}

// returned notes how t's call ended, from the goroutine that ran it, and reports
// whether t has an output to hand over; one aborted is left unfinished (redelivered to
// the partition's next owner).
func (c *claimLoop) returned(t *task) bool {
	if t.lastErr != nil {
		c.lastErr.set(t.lastErr)
	}
	if t.fin == nil {
		tracing.End(t.span, context.Canceled)
		return false
	}
	if t.fin.DeadLetter() {
		c.log.Error("giving up on the record; sending it to the dead-letter topic",
			callFields(t.ctx, &t.call, logging.Status(messages.StatusFailed), zap.String("dlq_topic", c.rt.dlqTopic),
				zap.String("reason", deadletter.Reason(t.fin.Reason)), zap.Int("attempts", t.call.Attempt),
				zap.Error(t.fin.Reason))...)
	}
	return true
}

// completed hands t's output to the delivery: at once, or, InOrder, once every
// earlier record's is handed over.
func (c *claimLoop) completed(t *task) {
	if !c.inOrder {
		c.handOver(t)
		return
	}
	t.completed = true
	for len(c.ordered) > 0 && c.ordered[0].completed {
		c.handOver(c.ordered[0])
		c.ordered[0] = nil
		c.ordered = c.ordered[1:]
	}
}

func (c *claimLoop) handOver(t *task) {
	t.handedOver = true
	c.delivery.Deliver(t.fin)
}

// finishDone takes what the delivery finished since the last time, and marks the
// partition's offset once past the records finished without a gap.
func (c *claimLoop) finishDone() {
	var next int64
	advanced := false
	for _, d := range c.done.take() {
		if n, ok := c.finish(d); ok {
			next, advanced = n, true
		}
	}
	if advanced {
		c.partition.marked(next)
		c.observe(time.Now())
		c.sess.MarkOffset(c.claim.Topic(), c.claim.Partition(), next, "")
	}
}

// finish notes a record whose output the delivery finished; ok when every record
// before next is finished now.
func (c *claimLoop) finish(d doneWrite) (next int64, ok bool) {
	f := d.f
	switch {
	case d.err != nil:
		tracing.End(spanOf(f), d.err)
	case f.DeadLetter():
		c.cfg.Metrics.DeadLetters.WithLabelValues(deadletter.Reason(f.Reason), f.Route).Inc()
		tracing.End(spanOf(f), f.Reason)
	default:
		switch {
		case f.Output == nil:
		case c.replies != nil && f.Output.Topic == c.rt.replyTopic && f.Route == c.rt.name:
			c.replies.Inc()
		default: // a reply_to topic
			c.cfg.Metrics.RepliesPublished.WithLabelValues(f.Output.Topic, f.Route).Inc()
		}
		tracing.End(spanOf(f), nil)
	}
	return c.unfinished.Done(f.Record.Offset)
}

// observe refreshes the partition's lag, oldest unfinished age and stuck state.
func (c *claimLoop) observe(now time.Time) {
	var oldest oldestUnfinished
	oldest.offset, oldest.taken, oldest.ok = c.unfinished.Oldest()
	c.partition.observe(now, c.claim.HighWaterMarkOffset(), oldest, c.lastErr.get())
}
