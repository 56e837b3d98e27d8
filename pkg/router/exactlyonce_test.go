package router

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
)

// fakeCommitter records the transactions it is given and fails them with err when set.
type fakeCommitter struct {
	mu      sync.Mutex
	open    *transactional.Batch
	batches []transactional.Batch
	err     func(b transactional.Batch) error
	gate    chan struct{} // when set, a commit waits until it is closed
	// sendGate, when set, holds each send until it is closed, as sarama holds them
	// while it adds a transaction's partitions.
	sendGate chan struct{}
}

func (c *fakeCommitter) Begin() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open != nil {
		return errors.New("a transaction is already open")
	}
	c.open = &transactional.Batch{}
	return nil
}

func (c *fakeCommitter) Send(m *sarama.ProducerMessage) {
	c.mu.Lock()
	gate := c.sendGate
	c.mu.Unlock()
	if gate != nil {
		<-gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		panic("Send outside a transaction") // a broken delivery, not a flaky test
	}
	c.open.Outputs = append(c.open.Outputs, m)
}

func (c *fakeCommitter) CommitOffsets(group *sarama.ConsumerGroupMetadata, offsets map[string][]*sarama.PartitionOffsetMetadata) error {
	c.mu.Lock()
	gate := c.gate
	c.mu.Unlock()
	if gate != nil {
		<-gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.open
	c.open = nil
	if b == nil {
		return errors.New("no transaction open")
	}
	b.Offsets = offsets
	if group.GroupID != "group" || group.MemberID != "member-1" || group.GenerationID != 1 {
		return errors.New("wrong group metadata")
	}
	if c.err != nil {
		return c.err(*b)
	}
	c.batches = append(c.batches, *b)
	return nil
}

// sent is how many outputs the open transaction holds.
func (c *fakeCommitter) sent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		return 0
	}
	return len(c.open.Outputs)
}

func (c *fakeCommitter) committed() []transactional.Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]transactional.Batch(nil), c.batches...)
}

// eosFixture is an ExactlyOnce delivery with two open partitions of "in".
type eosFixture struct {
	committer *fakeCommitter
	d         *ExactlyOnce
	parts     [2]PartitionDelivery
	done      chan *Finished
	failed    chan error
}

func newEOSFixture(t *testing.T, maxRecords int, maxWait time.Duration, refused *RefusedOutputs) *eosFixture {
	t.Helper()
	f := &eosFixture{committer: &fakeCommitter{}, done: make(chan *Finished, 100), failed: make(chan error, 1)}
	r := New(Config{GroupID: "group"})
	d, err := r.ExactlyOnce(ExactlyOnceConfig{
		Committer: f.committer, MaxRecords: maxRecords, MaxWait: maxWait, Refused: refused,
		Failed: func(err error) { f.failed <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	t.Cleanup(d.Close)
	if !d.InOrder() {
		t.Fatal("InOrder is false: a transaction needs the contiguous prefix")
	}
	sess := newFakeSession(context.Background())
	for i := range f.parts {
		f.parts[i] = d.Open(Partition{Session: sess, Topic: "in", Partition: int32(i), Done: func(fin *Finished, err error) {
			if err != nil {
				t.Errorf("Done(%d, %v)", fin.Record.Offset, err)
			}
			f.done <- fin
		}})
	}
	return f
}

func finished(partition int32, offset int64, id string) *Finished {
	rec := &sarama.ConsumerMessage{Topic: "in", Partition: partition, Offset: offset, Value: []byte(id)}
	return &Finished{
		Record: rec, Route: "in", CorrelationID: id, DeadLetterTopic: "in.dlq", Ctx: context.Background(),
		Output: &sarama.ProducerMessage{Topic: "out", Key: sarama.StringEncoder(id), Value: sarama.StringEncoder("reply " + id)},
	}
}

func (f *eosFixture) waitDone(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.done:
		case <-time.After(5 * time.Second):
			t.Fatalf("fewer than %d records Done", n)
		}
	}
}

func TestExactlyOnceCommitsByCountWithOffsets(t *testing.T) {
	f := newEOSFixture(t, 3, time.Hour, nil)
	f.parts[0].Deliver(finished(0, 7, "a"))
	f.parts[1].Deliver(finished(1, 4, "b"))
	f.parts[0].Deliver(finished(0, 8, "c"))
	f.waitDone(t, 3)
	batches := f.committer.committed()
	if len(batches) != 1 {
		t.Fatalf("%d transactions, want 1", len(batches))
	}
	var keys []string
	for _, m := range batches[0].Outputs {
		k, _ := m.Key.Encode()
		keys = append(keys, string(k))
	}
	if got := keys; len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Errorf("outputs %v, want [a b c] in the order handed over", got)
	}
	want := map[int32]int64{0: 9, 1: 5}
	for _, o := range batches[0].Offsets["in"] {
		if want[o.Partition] != o.Offset {
			t.Errorf("offset of in/%d = %d, want %d", o.Partition, o.Offset, want[o.Partition])
		}
		delete(want, o.Partition)
	}
	if len(want) != 0 {
		t.Errorf("no offset for %v", want)
	}
}

func TestExactlyOnceCommitsByTimeAndOnClose(t *testing.T) {
	f := newEOSFixture(t, 100, 20*time.Millisecond, nil)
	f.parts[0].Deliver(finished(0, 0, "a"))
	f.waitDone(t, 1) // MaxWait, not MaxRecords

	g := newEOSFixture(t, 100, time.Hour, nil)
	g.parts[1].Deliver(finished(1, 0, "b"))
	g.parts[1].Close(time.Second) // revoked: what it handed over commits before Close returns
	select {
	case <-g.done:
	default:
		t.Fatal("Close returned before the partition's records were committed")
	}
}

// Records that queued while the producer held a send back join the open transaction
// when MaxWait passes, rather than each batch of them paying for a transaction of its
// own: the exactly-once drain was a third of the at-least-once one when transactions
// closed at MaxWait with 300 of their 2,000 records.
func TestExactlyOnceTakesWhatQueuedBeforeCommittingByTime(t *testing.T) {
	const records = 10
	f := newEOSFixture(t, 100, 10*time.Millisecond, nil)
	gate := make(chan struct{})
	f.committer.mu.Lock()
	f.committer.sendGate = gate
	f.committer.mu.Unlock()
	for i := range records { // the first opens the transaction, its send is held
		f.parts[0].Deliver(finished(0, int64(i), fmt.Sprint(i)))
	}
	time.Sleep(30 * time.Millisecond) // MaxWait passes with the others queued
	close(gate)
	f.waitDone(t, records)
	var sizes []int
	for _, b := range f.committer.committed() {
		sizes = append(sizes, len(b.Outputs))
	}
	if len(sizes) != 1 {
		t.Fatalf("transactions of %v outputs, want one of %d", sizes, records)
	}
}

// A reply the broker refuses for good aborts its transaction; the record is not Done,
// Failed is told, and when the record comes again (a new delivery, the same memo) its
// output is a dead letter.
func TestExactlyOnceRefusedReplyIsDeadLetteredWhenRedelivered(t *testing.T) {
	refused := NewRefusedOutputs()
	f := newEOSFixture(t, 1, time.Hour, refused)
	f.committer.err = func(b transactional.Batch) error {
		return &transactional.SendError{Failed: []*sarama.ProducerError{{Msg: b.Outputs[0], Err: sarama.ErrMessageSizeTooLarge}}}
	}
	f.parts[0].Deliver(finished(0, 3, "huge"))
	select {
	case err := <-f.failed:
		if !errors.Is(err, sarama.ErrMessageSizeTooLarge) {
			t.Errorf("Failed(%v), want the refusal", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Failed was not called")
	}
	select {
	case fin := <-f.done:
		t.Fatalf("record %d Done although its transaction aborted", fin.Record.Offset)
	default:
	}
	f.parts[0].Deliver(finished(0, 4, "after")) // the batch failed for good: dropped
	if n := len(f.committer.committed()); n != 0 {
		t.Fatalf("%d transactions committed after a failure", n)
	}

	g := newEOSFixture(t, 1, time.Hour, refused)
	g.parts[0].Deliver(finished(0, 3, "huge"))
	g.waitDone(t, 1)
	out := g.committer.committed()[0].Outputs[0]
	if out.Topic != "in.dlq" {
		t.Errorf("redelivered record's output went to %q, want the dead-letter topic", out.Topic)
	}
}

// An output goes into the open transaction when its record is handed over, not at the
// commit; records handed over while a transaction commits wait for the next one
// without blocking the partition.
func TestExactlyOnceSendsIntoTheOpenTransaction(t *testing.T) {
	f := newEOSFixture(t, 2, time.Hour, nil)
	f.parts[0].Deliver(finished(0, 0, "a"))
	for deadline := time.Now().Add(5 * time.Second); f.committer.sent() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the output was not sent into the open transaction")
		}
	}
	if n := len(f.committer.committed()); n != 0 {
		t.Fatalf("%d transactions committed before MaxRecords or MaxWait", n)
	}

	gate := make(chan struct{})
	f.committer.mu.Lock()
	f.committer.gate = gate
	f.committer.mu.Unlock()
	f.parts[0].Deliver(finished(0, 1, "b")) // MaxRecords: the commit waits at the gate
	handed := make(chan struct{})
	go func() {
		f.parts[1].Deliver(finished(1, 0, "c"))
		f.parts[1].Deliver(finished(1, 1, "d"))
		close(handed)
	}()
	select {
	case <-handed:
	case <-time.After(5 * time.Second):
		t.Fatal("Deliver blocked while a transaction committed")
	}
	close(gate)
	f.waitDone(t, 4)
	batches := f.committer.committed()
	if len(batches) != 2 || len(batches[0].Outputs) != 2 || len(batches[1].Outputs) != 2 {
		t.Fatalf("transactions %v, want [a b] then [c d]", batches)
	}
	if k, _ := batches[1].Outputs[0].Key.Encode(); string(k) != "c" {
		t.Errorf("second transaction starts with %q, want c", k)
	}
}
