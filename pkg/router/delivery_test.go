package router

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// orderedDelivery is a Delivery that wants records in offset order (as a transactional
// one does); it finishes each at once and remembers the order.
type orderedDelivery struct {
	mu        sync.Mutex
	delivered []int64
}

func (d *orderedDelivery) InOrder() bool { return true }

func (d *orderedDelivery) Open(p Partition) PartitionDelivery { return &orderedPartition{d: d, p: p} }

type orderedPartition struct {
	d *orderedDelivery
	p Partition
}

func (o *orderedPartition) Deliver(f *Finished) {
	o.d.mu.Lock()
	o.d.delivered = append(o.d.delivered, f.Record.Offset)
	o.d.mu.Unlock()
	o.p.Done(f, nil)
}

func (o *orderedPartition) Close(time.Duration) {}

// An InOrder delivery gets every record once, in offset order, although records of
// different keys finish in any order under concurrency.
func TestInOrderDeliveryGetsTheContiguousPrefixInOffsetOrder(t *testing.T) {
	const records = 200
	r := New(Config{})
	if err := stringRoute(func(_ context.Context, m Message[string]) (string, error) {
		time.Sleep(time.Duration((records-m.Offset)%7) * time.Millisecond) // later records often finish first
		return m.Body, nil
	}, func(rt *Route[string, string]) { rt.Concurrency = 16 })(r); err != nil {
		t.Fatal(err)
	}
	d := &orderedDelivery{}
	handler, err := r.Handler(d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sess := newFakeSession(ctx)
	claim := &fakeClaim{messages: make(chan *sarama.ConsumerMessage, records)}
	for o := range int64(records) {
		claim.messages <- keyed(o, fmt.Sprintf("k%d", o%20), fmt.Sprint(o))
	}
	done := make(chan error, 1)
	go func() { done <- handler.ConsumeClaim(sess, claim) }()
	deadline := time.After(waitTimeout)
	for last := int64(0); last < records; {
		select {
		case m := <-sess.marks:
			last = m.offset
		case <-deadline:
			t.Fatalf("marked up to %d of %d", last, records)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.delivered) != records {
		t.Fatalf("%d records delivered, want %d", len(d.delivered), records)
	}
	for i, o := range d.delivered {
		if o != int64(i) {
			t.Fatalf("delivered in order %v..., want 0, 1, 2, ...", d.delivered[:i+1])
		}
	}
}
