package tracker

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

type step struct {
	done       int64
	wantCommit int64 // 0: no advance expected
}

func run(t *testing.T, tr *Tracker[int64], steps []step) {
	t.Helper()
	for _, s := range steps {
		commit, advanced := tr.Done(s.done)
		switch {
		case s.wantCommit == 0 && advanced:
			t.Fatalf("Done(%d) advanced to %d, want no advance", s.done, commit)
		case s.wantCommit != 0 && (!advanced || commit != s.wantCommit):
			t.Fatalf("Done(%d) = %d, %v; want %d, true", s.done, commit, advanced, s.wantCommit)
		}
	}
}

func add(t *testing.T, tr *Tracker[int64], offsets ...int64) {
	t.Helper()
	for _, o := range offsets {
		if err := tr.Add(o, time.Time{}, 1, o); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOutOfOrderMarksOnlyContiguousPrefix(t *testing.T) {
	tr := New[int64](8)
	add(t, tr, 10, 11, 12, 13, 14)
	run(t, tr, []step{
		{done: 12},                 // 10 and 11 still pending
		{done: 14},                 // likewise
		{done: 10, wantCommit: 11}, // 10 alone
		{done: 11, wantCommit: 13}, // 11 and the earlier 12
		{done: 13, wantCommit: 15}, // 13 and the earlier 14
	})
	if tr.Len() != 0 {
		t.Errorf("Len = %d after all done, want 0", tr.Len())
	}
}

// A record whose reply failed is not Done; it holds back every later record until a
// retry succeeds.
func TestFailureHoldsWatermark(t *testing.T) {
	tr := New[int64](8)
	add(t, tr, 0, 1, 2, 3)
	run(t, tr, []step{
		{done: 0, wantCommit: 1},
		// 1 failed: no Done for it.
		{done: 2},
		{done: 3},
	})
	if tr.Len() != 3 {
		t.Fatalf("Len = %d, want 3 (1, 2, 3 pending)", tr.Len())
	}
	run(t, tr, []step{{done: 1, wantCommit: 4}}) // the retry succeeded
}

func TestGapsInOffsets(t *testing.T) {
	tr := New[int64](4)
	add(t, tr, 5, 9, 20) // compaction or transaction markers leave gaps
	run(t, tr, []step{
		{done: 9},
		{done: 5, wantCommit: 10},
		{done: 20, wantCommit: 21},
	})
}

func TestIgnoresUnknownAndRepeatedOffsets(t *testing.T) {
	tr := New[int64](4)
	add(t, tr, 1, 2)
	run(t, tr, []step{
		{done: 7},
		{done: 0},
		{done: 2},
		{done: 2},
		{done: 1, wantCommit: 3},
		{done: 1},
	})
}

func TestAddRejectsFullAndOutOfOrder(t *testing.T) {
	tr := New[int64](2)
	add(t, tr, 1, 2)
	if !tr.Full() {
		t.Fatal("Full = false with 2 of 2 pending")
	}
	if err := tr.Add(3, time.Time{}, 1, 3); err == nil {
		t.Error("Add on a full tracker succeeded")
	}
	run(t, tr, []step{{done: 1, wantCommit: 2}})
	if err := tr.Add(2, time.Time{}, 1, 2); err == nil {
		t.Error("Add(2) after 2 succeeded")
	}
	add(t, tr, 3) // room again, and the ring wraps
	run(t, tr, []step{{done: 3}, {done: 2, wantCommit: 4}})
}

// Against a simple model, with the ring wrapping many times: the commit position is
// always one past the longest finished prefix of everything added.
func TestRandomAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const capacity = 16
	tr := New[int64](capacity)
	done := map[int64]bool{}
	var next, committed int64
	for range 10000 {
		if !tr.Full() && (tr.Len() == 0 || rng.IntN(2) == 0) {
			add(t, tr, next)
			next++
			continue
		}
		// Finish a random pending offset.
		o := committed + rng.Int64N(next-committed)
		if done[o] {
			continue
		}
		done[o] = true
		want := committed
		for done[want] {
			want++
		}
		commit, advanced := tr.Done(o)
		if want != committed {
			if !advanced || commit != want {
				t.Fatalf("Done(%d) = %d, %v; want %d, true", o, commit, advanced, want)
			}
			committed = want
		} else if advanced {
			t.Fatalf("Done(%d) advanced to %d, want no advance (commit stays %d)", o, commit, committed)
		}
		if got := int64(tr.Len()); got != next-committed {
			t.Fatalf("Len = %d, want %d", got, next-committed)
		}
	}
}

func TestOldestIsTheFirstUnfinishedRecord(t *testing.T) {
	tr := New[int64](8)
	if _, _, ok := tr.Oldest(); ok {
		t.Fatal("Oldest on an empty tracker reported a record")
	}
	base := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	for i := range int64(3) {
		if err := tr.Add(10+i, base.Add(time.Duration(i)*time.Second), 1, 10+i); err != nil {
			t.Fatal(err)
		}
	}
	tr.Done(11) // out of order: 10 still holds the head
	if off, at, ok := tr.Oldest(); !ok || off != 10 || !at.Equal(base) {
		t.Fatalf("Oldest = %d %v %v, want 10 taken at %v", off, at, ok, base)
	}
	tr.Done(10)
	if off, at, ok := tr.Oldest(); !ok || off != 12 || !at.Equal(base.Add(2*time.Second)) {
		t.Fatalf("Oldest = %d %v %v, want 12", off, at, ok)
	}
	tr.Done(12)
	if _, _, ok := tr.Oldest(); ok {
		t.Fatal("Oldest reported a record after all finished")
	}
}

func TestUnfinishedYieldsThePendingValuesNotDone(t *testing.T) {
	tr := New[int64](4)
	add(t, tr, 1, 2, 3, 4)
	tr.Done(2)
	tr.Done(4)
	var got []int64
	for v := range tr.Unfinished() {
		got = append(got, v)
	}
	if !slices.Equal(got, []int64{1, 3}) {
		t.Fatalf("Unfinished = %v, want [1 3]", got)
	}
	tr.Done(1) // 1 and 2 leave; 3 stays
	got = slices.Collect(tr.Unfinished())
	if !slices.Equal(got, []int64{3}) {
		t.Fatalf("Unfinished after Done(1) = %v, want [3]", got)
	}
}

func TestBytesCountPendingRecordsUntilTheyLeave(t *testing.T) {
	tr := New[int64](4)
	for i, size := range []int{100, 20, 3} {
		if err := tr.Add(int64(i), time.Time{}, size, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	tr.Done(1) // finished, but 0 holds it in the tracker
	if got := tr.Bytes(); got != 123 {
		t.Fatalf("Bytes = %d, want 123", got)
	}
	tr.Done(0) // 0 and 1 leave
	if got := tr.Bytes(); got != 3 {
		t.Fatalf("Bytes after 0 and 1 left = %d, want 3", got)
	}
	tr.Done(2)
	if got := tr.Bytes(); got != 0 {
		t.Fatalf("Bytes with nothing pending = %d, want 0", got)
	}
}
