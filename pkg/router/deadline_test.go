package router

import (
	"context"
	"errors"
	"testing"
	"time"
)

// lazyDeadline behaves as context.WithTimeout for everything a handler can ask.
func TestLazyDeadlineEndsAtTheTimeout(t *testing.T) {
	ctx := withLazyTimeout(context.Background(), 20*time.Millisecond)
	defer ctx.release()
	if err := ctx.Err(); err != nil {
		t.Fatalf("Err before the deadline = %v", err)
	}
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > 20*time.Millisecond {
		t.Errorf("Deadline = %v, %t", d, ok)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done did not close at the deadline")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err = %v, want DeadlineExceeded", ctx.Err())
	}
}

// A handler that only polls Err, never Done, sees the deadline too.
func TestLazyDeadlineErrWithoutDone(t *testing.T) {
	ctx := withLazyTimeout(context.Background(), time.Millisecond)
	defer ctx.release()
	time.Sleep(5 * time.Millisecond)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err = %v, want DeadlineExceeded", ctx.Err())
	}
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("Cause = %v, want DeadlineExceeded", context.Cause(ctx))
	}
	select {
	case <-ctx.Done():
	default:
		t.Error("Done asked after the deadline is not closed")
	}
}

func TestLazyDeadlineFollowsItsParent(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	ctx := withLazyTimeout(parent, time.Hour)
	defer ctx.release()
	if ctx.Value(key{}) != "v" {
		t.Error("the parent's value is lost")
	}
	done := ctx.Done()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Done did not close with the parent")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("Err = %v, want Canceled", ctx.Err())
	}

	// Unasked, the parent's end shows in Err.
	parent, cancel = context.WithCancel(context.Background())
	lazy := withLazyTimeout(parent, time.Hour)
	defer lazy.release()
	cancel()
	if !errors.Is(lazy.Err(), context.Canceled) {
		t.Errorf("Err after the parent's end = %v, want Canceled", lazy.Err())
	}

	// The earlier deadline wins.
	parent, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lazy = withLazyTimeout(parent, time.Hour)
	defer lazy.release()
	if d, _ := lazy.Deadline(); time.Until(d) > time.Minute {
		t.Errorf("Deadline %v is the later one", d)
	}
}

// Once released, as a cancelled context: a goroutine the handler left behind stops.
func TestLazyDeadlineReleaseCancels(t *testing.T) {
	asked := withLazyTimeout(context.Background(), time.Hour)
	done := asked.Done()
	asked.release()
	select {
	case <-done:
	default:
		t.Error("Done still open after release")
	}
	if !errors.Is(asked.Err(), context.Canceled) {
		t.Errorf("Err = %v, want Canceled", asked.Err())
	}

	unasked := withLazyTimeout(context.Background(), time.Hour)
	unasked.release()
	if !errors.Is(unasked.Err(), context.Canceled) {
		t.Errorf("Err after release, Done never asked = %v, want Canceled", unasked.Err())
	}
	select {
	case <-unasked.Done():
	default:
		t.Error("Done asked after release is not closed")
	}
}

// BenchmarkAttemptContext compares a per-attempt context.WithTimeout with the lazy one,
// for a handler that never asks for Done.
func BenchmarkAttemptContext(b *testing.B) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("context.WithTimeout", func(b *testing.B) {
		for b.Loop() {
			ctx, cancel := context.WithTimeout(parent, time.Minute)
			_ = ctx.Err()
			cancel()
		}
	})
	b.Run("withLazyTimeout", func(b *testing.B) {
		for b.Loop() {
			ctx := withLazyTimeout(parent, time.Minute)
			_ = ctx.Err()
			ctx.release()
		}
	})
}
