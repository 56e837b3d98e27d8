package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestStepDoublesUpToMax(t *testing.T) {
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for n, w := range want {
		if got := Step(100*time.Millisecond, time.Second, n); got != w*time.Millisecond {
			t.Errorf("Step(n=%d) = %v, want %v", n, got, w*time.Millisecond)
		}
	}
	if got := Step(time.Millisecond, time.Minute, 1000); got != time.Minute {
		t.Errorf("Step after many retries = %v, want the cap (no overflow)", got)
	}
}

// Each delay lies in [step/2, step]: the low end with the least jitter, the high end
// with the most.
func TestNextJittersWithinHalfAStepAndReset(t *testing.T) {
	for _, tc := range []struct {
		name   string
		jitter func(int64) int64
		want   []time.Duration
	}{
		{"least jitter", func(int64) int64 { return 0 }, []time.Duration{50, 100, 200, 400, 500, 500}},
		{"most jitter", func(n int64) int64 { return n }, []time.Duration{100, 200, 400, 800, 1000, 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(100*time.Millisecond, time.Second)
			b.jitter = tc.jitter
			for i, w := range tc.want {
				if got := b.Next(); got != w*time.Millisecond {
					t.Fatalf("Next() #%d = %v, want %v", i, got, w*time.Millisecond)
				}
			}
			b.Reset()
			if got := b.Next(); got != tc.want[0]*time.Millisecond {
				t.Errorf("Next() after Reset = %v, want %v", got, tc.want[0]*time.Millisecond)
			}
		})
	}
}

// Replicas that fail together must not retry together: the real jitter spreads the
// same step over its range, and never leaves it.
func TestJitteredSpreadsReplicas(t *testing.T) {
	const draws = 200
	seen := map[time.Duration]bool{}
	for range draws {
		d := Jittered(100*time.Millisecond, 10*time.Second, 3) // step 800ms
		if d < 400*time.Millisecond || d > 800*time.Millisecond {
			t.Fatalf("Jittered = %v, want within [400ms, 800ms]", d)
		}
		seen[d] = true
	}
	// 200 draws from 400,000,001 values: a repeat is already unlikely.
	if len(seen) < draws/2 {
		t.Errorf("%d distinct delays in %d draws: the replicas would retry in lock-step", len(seen), draws)
	}
}

func TestSleepStopsWhenContextIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
	if time.Since(start) > time.Second {
		t.Error("Sleep waited despite a cancelled context")
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v, want nil", err)
	}
}
