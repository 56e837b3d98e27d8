package router

// scheduler decides which taken records of a partition may be handled now, under the
// route's Ordering: a record is ready when no earlier record of its key is waiting or
// running (ByKey; ByPartition is one key for the whole partition), or at once
// (Unordered). Ready records start in the order they became ready, Concurrency at a
// time. It belongs
// to the claim's goroutine.
type scheduler struct {
	ordering Ordering
	// keys holds, per key with a record running or waiting, that key's records in
	// offset order; the first is running or ready.
	keys  map[string][]*task
	ready []*task // in offset order of when they became ready
}

func newScheduler(o Ordering) *scheduler {
	return &scheduler{ordering: o, keys: map[string][]*task{}}
}

// keyOf is the ordering key of t's record. Records without a key share the key "", so
// they are handled one at a time, in offset order (ByKey).
func (s *scheduler) keyOf(t *task) string {
	if s.ordering == ByPartition {
		return ""
	}
	return string(t.rec.Key)
}

// add queues a taken record.
func (s *scheduler) add(t *task) {
	if s.ordering == Unordered {
		s.ready = append(s.ready, t)
		return
	}
	t.key = s.keyOf(t)
	queue := s.keys[t.key]
	s.keys[t.key] = append(queue, t)
	if len(queue) == 0 {
		s.ready = append(s.ready, t)
	}
}

// next returns the next ready record, or nil.
func (s *scheduler) next() *task {
	if len(s.ready) == 0 {
		return nil
	}
	t := s.ready[0]
	s.ready[0] = nil
	s.ready = s.ready[1:]
	return t
}

// done releases t's key: the key's next record becomes ready.
func (s *scheduler) done(t *task) {
	if s.ordering == Unordered {
		return
	}
	queue := s.keys[t.key]
	if len(queue) == 0 || queue[0] != t {
		return // not scheduled here (never happens: only started tasks finish)
	}
	queue[0] = nil
	queue = queue[1:]
	if len(queue) == 0 {
		delete(s.keys, t.key)
		return
	}
	s.keys[t.key] = queue
	s.ready = append(s.ready, queue[0])
}

// waiting returns every record not started yet, for the claim to drop as it ends.
func (s *scheduler) waiting() []*task {
	var out []*task
	if s.ordering == Unordered {
		return append(out, s.ready...)
	}
	for _, queue := range s.keys {
		for _, t := range queue {
			if !t.started {
				out = append(out, t)
			}
		}
	}
	return out
}
