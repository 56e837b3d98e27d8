// Package backoff spaces out retries against a broker that is down: each failure waits
// about twice as long as the one before, up to a cap, and a success starts over.
//
// Every delay carries "equal jitter": it is drawn uniformly from [d/2, d], where d is
// the exponential step. Replicas that lost the same broker at the same moment so spread
// their reconnects instead of hitting it in lock-step, and each still waits at least
// half the step, which keeps a lower bound on how long a run of retries lasts.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff hands out growing delays. The zero value is not usable; use New.
// It is not safe for concurrent use.
type Backoff struct {
	min, max time.Duration
	attempt  int
	// jitter returns a value in [0, n]; rand.Int64N-based, replaceable in tests.
	jitter func(n int64) int64
}

// New returns a Backoff whose steps start at min and double up to max.
func New(min, max time.Duration) *Backoff {
	return &Backoff{min: min, max: max, jitter: uniform}
}

// Next returns the delay before the coming retry and doubles the step after it.
func (b *Backoff) Next() time.Duration {
	d := jittered(Step(b.min, b.max, b.attempt), b.jitter)
	b.attempt++
	return d
}

// Reset starts over at the minimum step, after a success.
func (b *Backoff) Reset() { b.attempt = 0 }

// Step returns the exponential step, before jitter, of retry number n (counting from
// 0): min·2ⁿ, capped at max.
func Step(min, max time.Duration, n int) time.Duration {
	d := min
	for range n {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return d
}

// Jittered returns the delay of retry number n: Step(min, max, n) with equal jitter.
// It is stateless and safe for concurrent use, as sarama's BackoffFunc hooks need.
func Jittered(min, max time.Duration, n int) time.Duration {
	return jittered(Step(min, max, n), uniform)
}

func jittered(step time.Duration, jitter func(int64) int64) time.Duration {
	half := step / 2
	return step - half + time.Duration(jitter(int64(half)))
}

// uniform returns a value in [0, n].
func uniform(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n + 1)
}

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
