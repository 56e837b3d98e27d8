package gatewaykit

import (
	"errors"
	"sync"
)

// ErrTooManyWaiting is returned by Add when the bound on waiting requests is reached.
var ErrTooManyWaiting = errors.New("gatewaykit: too many requests waiting for a reply")

// Waiters are the requests of this instance waiting for their reply, at most max.
type Waiters struct {
	mu      sync.Mutex
	max     int
	waiting map[string]chan []byte
}

// NewWaiters returns an empty set that holds at most max waiters.
func NewWaiters(max int) *Waiters {
	return &Waiters{max: max, waiting: make(map[string]chan []byte)}
}

// Add registers a waiter for the reply whose correlation_id header is id. The reply's
// body arrives on the channel; release must be called when the request stops waiting,
// whatever the outcome, and is what keeps the set from leaking.
func (w *Waiters) Add(id string) (reply <-chan []byte, release func(), err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.waiting) >= w.max {
		return nil, nil, ErrTooManyWaiting
	}
	if _, dup := w.waiting[id]; dup {
		return nil, nil, errors.New("gatewaykit: correlation ID already waiting: " + id)
	}
	ch := make(chan []byte, 1) // Deliver never blocks
	w.waiting[id] = ch
	return ch, func() { w.remove(id, ch) }, nil
}

func (w *Waiters) remove(id string, ch chan []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting[id] == ch {
		delete(w.waiting, id)
	}
}

// Deliver hands body to the waiter for id and removes it; it reports whether one was
// waiting. A reply delivered twice (the worker is at-least-once) finds no waiter the
// second time.
func (w *Waiters) Deliver(id string, body []byte) bool {
	w.mu.Lock()
	ch, ok := w.waiting[id]
	delete(w.waiting, id)
	w.mu.Unlock()
	if ok {
		ch <- body
	}
	return ok
}

// Len is the number of requests waiting.
func (w *Waiters) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.waiting)
}
