package gatewaykit

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestWaitersDeliverToTheirOwnRequestOnly(t *testing.T) {
	w := NewWaiters(10)
	a, releaseA, err := w.Add("a")
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	if w.Deliver("someone-else", []byte("x")) {
		t.Error("a reply for an unknown ID was delivered")
	}
	if !w.Deliver("a", []byte("reply-a")) {
		t.Fatal("the reply for a found no waiter")
	}
	if got := string(<-a); got != "reply-a" {
		t.Errorf("a got %q", got)
	}
	// The worker is at-least-once: a second copy finds nobody and blocks nothing.
	if w.Deliver("a", []byte("again")) {
		t.Error("a duplicate reply was delivered")
	}
	if w.Len() != 0 {
		t.Errorf("Len = %d after delivery, want 0", w.Len())
	}
}

func TestWaitersAreBoundedAndReleased(t *testing.T) {
	w := NewWaiters(2)
	_, r1, _ := w.Add("1")
	_, r2, _ := w.Add("2")
	if _, _, err := w.Add("3"); !errors.Is(err, ErrTooManyWaiting) {
		t.Fatalf("third Add: %v, want ErrTooManyWaiting", err)
	}
	r1()
	r1() // twice is harmless
	if _, r3, err := w.Add("3"); err != nil {
		t.Fatalf("Add after a release: %v", err)
	} else {
		r3()
	}
	r2()
	if w.Len() != 0 {
		t.Errorf("Len = %d after every release, want 0", w.Len())
	}
	if _, _, err := w.Add("x"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Add("x"); err == nil {
		t.Error("a second waiter for the same ID was accepted")
	}
}

func TestWaitersConcurrently(t *testing.T) {
	w := NewWaiters(1000)
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Go(func() {
			id := fmt.Sprint(i)
			reply, release, err := w.Add(id)
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			go w.Deliver(id, []byte(id))
			if got := string(<-reply); got != id {
				t.Errorf("waiter %s got %s", id, got)
			}
		})
	}
	wg.Wait()
	if w.Len() != 0 {
		t.Errorf("Len = %d, want 0", w.Len())
	}
}
