package router

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// lane runs the calls of a route with Concurrency 1 for one claimed partition: one
// goroutine handles the records in offset order, back to back, and hands each output
// straight to the delivery, so the claim loop sees a record only when it takes it and
// when the delivery finished it. The outputs reach the delivery in offset order, as an
// InOrder delivery needs.
type lane struct {
	c       *claimLoop
	records chan *task // room for every unfinished record
	exited  chan struct{}

	// mu orders hand-overs against abandon: once the claim left behind a call that
	// ignores its cancelled ctx, nothing reaches the delivery after its Close.
	mu        sync.Mutex
	abandoned bool
}

func startLane(c *claimLoop) *lane {
	l := &lane{c: c, records: make(chan *task, c.bounds.maxInFlight), exited: make(chan struct{})}
	go l.run()
	return l
}

// add queues t; it never blocks: the lane has room for every unfinished record.
func (l *lane) add(t *task) { l.records <- t }

// close lets the lane end; once the claim is stopping, records not started stay
// unfinished (redelivered to the partition's next owner).
func (l *lane) close() { close(l.records) }

func (l *lane) run() {
	defer close(l.exited)
	c := l.c
	retries := c.cfg.Metrics.HandlerRetries.WithLabelValues(c.rt.name)
	for t := range l.records {
		if t.fin != nil { // dead-lettered as it was taken
			l.handOver(t)
			continue
		}
		select {
		case <-c.stopping:
			tracing.End(t.span, context.Canceled)
			continue
		default:
		}
		t.started = true
		t.handle(c.rt, c.stopping, retries.Inc)
		if c.returned(t) {
			l.handOver(t)
		}
	}
}

func (l *lane) handOver(t *task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.abandoned {
		l.c.handOver(t)
	}
}

// abandon stops the lane's hand-overs: the claim no longer waits for it.
func (l *lane) abandon() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.abandoned = true
}

// lastError is the latest failed call's error, for the stuck-partition warning: a lane
// sets it, the claim loop reads it.
type lastError struct{ p atomic.Pointer[error] }

func (e *lastError) set(err error) { e.p.Store(&err) }

func (e *lastError) get() error {
	if p := e.p.Load(); p != nil {
		return *p
	}
	return nil
}
