package gatewaykit

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// heldProducer is a SyncProducer whose sends wait until release is closed, as sends do
// while a broker fails over; it notes when it is closed. Only the locking around a
// connection is under test here: the e2e tests rotate credentials on a real broker.
type heldProducer struct {
	sarama.SyncProducer
	release chan struct{}
	sending chan struct{} // receives once per send that started
	closed  atomic.Bool
}

func (p *heldProducer) SendMessage(*sarama.ProducerMessage) (int32, int64, error) {
	if p.closed.Load() {
		panic("send on a closed producer") // what sarama does
	}
	p.sending <- struct{}{}
	<-p.release
	return 0, 0, nil
}

func (p *heldProducer) Close() error {
	p.closed.Store(true)
	return nil
}

type closedClient struct{ sarama.Client }

func (closedClient) Close() error { return nil }

func newHeldConnection(released bool) (*connection, *heldProducer) {
	p := &heldProducer{release: make(chan struct{}), sending: make(chan struct{}, 8)}
	if released {
		close(p.release)
	}
	return &connection{client: closedClient{}, producer: p}, p
}

// While a replaced connection waits for a send still in flight on it, new publishes go
// to its successor at once, and the old producer is closed only after its last send.
func TestReplacedConnectionDoesNotHoldUpNewPublishes(t *testing.T) {
	k := testProducer()
	old, oldProducer := newHeldConnection(false)
	k.conn.Store(old)
	msg := Record{Topic: "in-topic", Key: "id-1", Value: []byte("{}"), CorrelationID: "id-1"}

	inFlight := make(chan error, 1)
	go func() { inFlight <- k.Send(context.Background(), msg) }()
	<-oldProducer.sending // the send holds the old connection

	successor, _ := newHeldConnection(true)
	k.conn.Swap(successor)
	retired := make(chan struct{})
	go func() {
		k.closeRetired(old)
		close(retired)
	}()

	done := make(chan error, 1)
	go func() { done <- k.Send(context.Background(), msg) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("publish on the successor: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a new publish waited for the replaced connection's send")
	}
	select {
	case <-retired:
		t.Fatal("the replaced connection closed while a send was using it")
	case <-time.After(50 * time.Millisecond):
	}
	if oldProducer.closed.Load() {
		t.Fatal("the old producer was closed under a running send")
	}

	close(oldProducer.release)
	if err := <-inFlight; err != nil {
		t.Fatalf("the send on the replaced connection: %v", err)
	}
	select {
	case <-retired:
	case <-time.After(2 * time.Second):
		t.Fatal("the replaced connection was not closed after its last send")
	}
	if !oldProducer.closed.Load() {
		t.Fatal("closeRetired returned without closing the old producer")
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
}
