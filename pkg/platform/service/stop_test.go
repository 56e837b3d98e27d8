package service

import (
	"errors"
	"testing"
	"time"
)

func TestAwaitReturnsTheResultBeforeTheDeadline(t *testing.T) {
	want := errors.New("closed")
	done := make(chan error, 1)
	done <- want
	err, ok := Await(done, time.Now().Add(time.Minute))
	if !ok || !errors.Is(err, want) {
		t.Fatalf("Await = %v, %v; want %v, true", err, ok, want)
	}
}

func TestAwaitGivesUpAtTheDeadline(t *testing.T) {
	start := time.Now()
	err, ok := Await(make(chan error), start.Add(50*time.Millisecond))
	if ok || err != nil {
		t.Fatalf("Await = %v, %v; want nil, false", err, ok)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("Await waited %s for a 50ms deadline", waited)
	}
}
