package router

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// waitTimeout bounds every wait for something that must happen; tests that pass never
// come near it.
const waitTimeout = 5 * time.Second

type mark struct {
	topic     string
	partition int32
	offset    int64
}

// fakeSession is a sarama.ConsumerGroupSession that reports marks and commits on
// channels, so tests can wait for them.
type fakeSession struct {
	ctx        context.Context
	marks      chan mark
	commits    chan struct{}
	partitions int32 // of in-topic the session claims: 0 to partitions-1
}

func newFakeSession(ctx context.Context) *fakeSession {
	return &fakeSession{ctx: ctx, marks: make(chan mark, 100), commits: make(chan struct{}, 100), partitions: 1}
}

func (s *fakeSession) Claims() map[string][]int32 {
	claimed := make([]int32, s.partitions)
	for p := range s.partitions {
		claimed[p] = p
	}
	return map[string][]int32{"in-topic": claimed}
}
func (s *fakeSession) MemberID() string    { return "member-1" }
func (s *fakeSession) GenerationID() int32 { return 1 }
func (s *fakeSession) MarkOffset(topic string, partition int32, offset int64, _ string) {
	s.marks <- mark{topic, partition, offset}
}
func (s *fakeSession) Commit()                                     { s.commits <- struct{}{} }
func (s *fakeSession) ResetOffset(string, int32, int64, string)    { panic("unexpected ResetOffset") }
func (s *fakeSession) MarkMessage(*sarama.ConsumerMessage, string) { panic("unexpected MarkMessage") }
func (s *fakeSession) Context() context.Context                    { return s.ctx }

// fakeClaim is a sarama.ConsumerGroupClaim fed by the test. Its channel is unbuffered,
// so a send completes only when the handler reads the record. Like sarama's claims it
// can pause fetching; paused tells whether it is.
type fakeClaim struct {
	messages chan *sarama.ConsumerMessage
	hwm      atomic.Int64 // what HighWaterMarkOffset reports
	paused   atomic.Bool
}

func (c *fakeClaim) Pause()  { c.paused.Store(true) }
func (c *fakeClaim) Resume() { c.paused.Store(false) }

func (c *fakeClaim) Topic() string                            { return "in-topic" }
func (c *fakeClaim) Partition() int32                         { return 0 }
func (c *fakeClaim) InitialOffset() int64                     { return 0 }
func (c *fakeClaim) HighWaterMarkOffset() int64               { return c.hwm.Load() }
func (c *fakeClaim) Messages() <-chan *sarama.ConsumerMessage { return c.messages }

// fakeProducer stands in for a sarama.AsyncProducer: the test receives what the
// handler sends and decides, message by message, when and how it is acknowledged.
type fakeProducer struct {
	input     chan *sarama.ProducerMessage
	successes chan *sarama.ProducerMessage
	errors    chan *sarama.ProducerError
	closeOnce sync.Once
}

func newFakeProducer() *fakeProducer {
	return &fakeProducer{
		input:     make(chan *sarama.ProducerMessage, 100),
		successes: make(chan *sarama.ProducerMessage),
		errors:    make(chan *sarama.ProducerError),
	}
}

func (p *fakeProducer) Input() chan<- *sarama.ProducerMessage     { return p.input }
func (p *fakeProducer) Successes() <-chan *sarama.ProducerMessage { return p.successes }
func (p *fakeProducer) Errors() <-chan *sarama.ProducerError      { return p.errors }

func (p *fakeProducer) close() {
	p.closeOnce.Do(func() {
		close(p.successes)
		close(p.errors)
	})
}

// next returns the next message the handler sent.
func (p *fakeProducer) next(t *testing.T) *sarama.ProducerMessage {
	t.Helper()
	select {
	case m := <-p.input:
		return m
	case <-time.After(waitTimeout):
		t.Fatal("nothing sent to the producer")
		return nil
	}
}

// none asserts that the handler sends nothing for a while.
func (p *fakeProducer) none(t *testing.T, wait time.Duration) {
	t.Helper()
	select {
	case m := <-p.input:
		t.Fatalf("unexpected send to %s", m.Topic)
	case <-time.After(wait):
	}
}

func (p *fakeProducer) succeed(m *sarama.ProducerMessage, offset int64) {
	m.Offset = offset
	p.successes <- m
}

func (p *fakeProducer) fail(m *sarama.ProducerMessage, err error) {
	p.errors <- &sarama.ProducerError{Msg: m, Err: err}
}
