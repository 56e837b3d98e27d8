package router

import (
	"context"
	"sync"
	"time"
)

// lazyDeadline is context.WithTimeout that builds its timer and its registration with
// the parent only when something asks for Done. Most handlers never do (the ping flow
// computes and returns), and context.WithTimeout per attempt was 5 % of the worker's CPU
// in BenchmarkWorker's profile (tests/bench): a runtime timer and a lock on the parent's
// children per record. Hand-written because the standard library has no lazy form.
type lazyDeadline struct {
	context.Context // the parent, for Value
	deadline        time.Time

	mu       sync.Mutex
	child    context.Context // context.WithDeadline, once Done was asked for
	cancel   context.CancelFunc
	released bool // as a cancelled context.WithTimeout: Canceled from then on
}

// withLazyTimeout returns a new context that ends timeout from now or when parent does.
func withLazyTimeout(parent context.Context, timeout time.Duration) *lazyDeadline {
	c := new(lazyDeadline)
	c.start(parent, timeout)
	return c
}

// start makes c a context that ends timeout from now or when parent does; its release
// frees it as a cancel func would. c must be new: a context is never reused.
func (c *lazyDeadline) start(parent context.Context, timeout time.Duration) {
	c.Context, c.deadline = parent, time.Now().Add(timeout)
}

func (c *lazyDeadline) Deadline() (time.Time, bool) {
	if parent, ok := c.Context.Deadline(); ok && parent.Before(c.deadline) {
		return parent, true
	}
	return c.deadline, true
}

func (c *lazyDeadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.child == nil {
		c.child, c.cancel = context.WithDeadline(c.Context, c.deadline)
		if c.released {
			c.cancel()
		}
	}
	return c.child.Done()
}

// Err is the child's once Done was asked for; before that, what it would be.
func (c *lazyDeadline) Err() error {
	c.mu.Lock()
	child, released := c.child, c.released
	c.mu.Unlock()
	if child != nil {
		return child.Err()
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	if released {
		return context.Canceled
	}
	return nil
}

func (c *lazyDeadline) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released = true
	if c.cancel != nil {
		c.cancel()
	}
}
