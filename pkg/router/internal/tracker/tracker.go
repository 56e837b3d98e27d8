// Package tracker decides which offsets of one partition may be committed when records
// are finished out of order.
//
// Replies to consecutive records go to different out-topic partitions and brokers, so
// their acknowledgements come back in any order. Committing an offset tells the group
// that every earlier record is done too, so the committable position only moves past a
// contiguous run of finished records: a record still in flight (or failed and waiting
// to be retried) holds it back.
package tracker

import (
	"fmt"
	"iter"
	"sort"
	"time"
)

// Tracker is a FIFO of the offsets of one partition that were taken but are not yet
// committable, each with a value of its owner's (the record's state). It is not safe
// for concurrent use: one goroutine owns a partition.
type Tracker[T any] struct {
	// ring holds the pending offsets in the order they were added, which is increasing
	// offset order; head is the oldest and n how many are pending.
	ring  []entry[T]
	head  int
	n     int
	bytes int // of the pending entries
}

type entry[T any] struct {
	offset int64
	taken  time.Time
	bytes  int
	done   bool
	value  T
}

// New returns a tracker that holds at most capacity pending offsets.
func New[T any](capacity int) *Tracker[T] {
	if capacity < 1 {
		capacity = 1
	}
	return &Tracker[T]{ring: make([]entry[T], capacity)}
}

// Len returns how many offsets are pending.
func (t *Tracker[T]) Len() int { return t.n }

// Bytes returns the size of the pending offsets' records: finished ones count until
// they leave, as the tracker holds their values until then.
func (t *Tracker[T]) Bytes() int { return t.bytes }

// Full reports whether Add would fail.
func (t *Tracker[T]) Full() bool { return t.n == len(t.ring) }

// Add records offset as taken, at taken, but not finished, with its size in bytes and
// its value. Offsets must be added in
// increasing order, as a partition delivers them (gaps, such as those compaction
// leaves, are fine).
func (t *Tracker[T]) Add(offset int64, taken time.Time, bytes int, value T) error {
	if t.Full() {
		return fmt.Errorf("tracker: %d offsets already pending", t.n)
	}
	if t.n > 0 {
		if last := t.at(t.n - 1).offset; offset <= last {
			return fmt.Errorf("tracker: offset %d added after %d", offset, last)
		}
	}
	*t.at(t.n) = entry[T]{offset: offset, taken: taken, bytes: bytes, value: value}
	t.n++
	t.bytes += bytes
	return nil
}

// Done records offset as finished. When that completes a run of finished offsets at
// the head, they leave the tracker and Done returns the position to commit (the offset
// after the last of them) and true. Offsets that are not pending are ignored.
func (t *Tracker[T]) Done(offset int64) (commit int64, advanced bool) {
	i := sort.Search(t.n, func(i int) bool { return t.at(i).offset >= offset })
	if i == t.n || t.at(i).offset != offset {
		return 0, false
	}
	t.at(i).done = true
	for t.n > 0 && t.at(0).done {
		commit, advanced = t.at(0).offset+1, true
		t.bytes -= t.at(0).bytes
		*t.at(0) = entry[T]{} // lets go of the value
		t.head = (t.head + 1) % len(t.ring)
		t.n--
	}
	return commit, advanced
}

// Unfinished yields the values of the offsets that are pending and not done, oldest
// first.
func (t *Tracker[T]) Unfinished() iter.Seq[T] {
	return func(yield func(T) bool) {
		for i := range t.n {
			if e := t.at(i); !e.done && !yield(e.value) {
				return
			}
		}
	}
}

// Oldest returns the offset of the oldest unfinished record and when it was taken; ok
// is false when nothing is pending. The head entry is never finished: finished entries
// at the head leave at once.
func (t *Tracker[T]) Oldest() (offset int64, taken time.Time, ok bool) {
	if t.n == 0 {
		return 0, time.Time{}, false
	}
	head := t.at(0)
	return head.offset, head.taken, true
}

// at returns the i-th pending entry, counting from the oldest.
func (t *Tracker[T]) at(i int) *entry[T] {
	return &t.ring[(t.head+i)%len(t.ring)]
}
