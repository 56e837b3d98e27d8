package router

import "sync"

// mailbox hands items from any goroutine to one that takes them together: one wake-up
// of the taker for everything put since it last looked, where a channel wakes it per
// item. Between the claim, its lane, its writer and the producer's results, wake-ups
// per record were a tenth of the ping flow's CPU per record.
type mailbox[T any] struct {
	mu    sync.Mutex
	items []T
	spare []T           // the batch taken last time, reused
	ready chan struct{} // signalled after each put
}

// newMailbox returns a mailbox with room for capacity items before it grows; the
// engine never has more in one than a partition's unfinished records.
func newMailbox[T any](capacity int) *mailbox[T] {
	return &mailbox[T]{
		items: make([]T, 0, capacity),
		spare: make([]T, 0, capacity),
		ready: make(chan struct{}, 1),
	}
}

// put never blocks.
func (m *mailbox[T]) put(item T) {
	m.mu.Lock()
	m.items = append(m.items, item)
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default: // a signal is pending already
	}
}

// take returns what was put since the last take, oldest first; the slice is valid
// until the next take. Only one goroutine takes.
func (m *mailbox[T]) take() []T {
	clear(m.spare) // the last batch, handled: lets go of what it held
	m.mu.Lock()
	items := m.items
	m.items = m.spare[:0]
	m.mu.Unlock()
	m.spare = items
	return items
}

// doneWrite is what Partition.Done reports.
type doneWrite struct {
	f   *Finished
	err error
}
