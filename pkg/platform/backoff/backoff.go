// Package backoff spaces out retries against a broker that is down: each failure waits
// twice as long as the one before, up to a cap, and a success starts over.
package backoff

import (
	"context"
	"time"
)

// Backoff hands out growing delays. The zero value is not usable; use New.
// It is not safe for concurrent use.
type Backoff struct {
	min, max time.Duration
	next     time.Duration
}

// New returns a Backoff whose delays start at min and double up to max.
func New(min, max time.Duration) *Backoff {
	return &Backoff{min: min, max: max, next: min}
}

// Next returns the delay before the coming retry and doubles the one after it.
func (b *Backoff) Next() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.max)
	return d
}

// Reset starts over at the minimum delay, after a success.
func (b *Backoff) Reset() { b.next = b.min }

// Sleep waits for d or until ctx is done, whichever comes first, and returns ctx's
// error in the latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
