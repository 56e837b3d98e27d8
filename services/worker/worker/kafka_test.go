package worker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"
)

// fakeGroup is a sarama.ConsumerGroup whose Consume calls return the given results in
// turn, then block until ctx is done.
type fakeGroup struct {
	sarama.ConsumerGroup // unused methods
	results              []error
	calls                chan struct{}
}

func (g *fakeGroup) Consume(ctx context.Context, _ []string, _ sarama.ConsumerGroupHandler) error {
	g.calls <- struct{}{}
	if len(g.results) > 0 {
		err := g.results[0]
		g.results = g.results[1:]
		return err
	}
	<-ctx.Done()
	return nil
}

func runLoop(t *testing.T, g *fakeGroup) (context.CancelFunc, chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- consumeLoop(ctx, g, []string{"in-topic"}, nil, zap.NewNop()) }()
	return cancel, done
}

func TestConsumeLoopRetriesFailedSessionsAndStopsWithContext(t *testing.T) {
	g := &fakeGroup{
		results: []error{errors.New("broker down"), nil, errors.New("broker down")},
		calls:   make(chan struct{}, 10),
	}
	cancel, done := runLoop(t, g)
	began := time.Now()
	for range 4 { // three results, then the blocking session
		select {
		case <-g.calls:
		case <-time.After(5 * time.Second):
			t.Fatal("Consume not called again")
		}
	}
	// Two failures, each followed by the first backoff step (a success resets it).
	if waited := time.Since(began); waited < 2*reconnectMin {
		t.Errorf("retried after %v, want at least %v of backoff", waited, 2*reconnectMin)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("consumeLoop = %v, want nil after ctx is done", err)
	}
}

func TestConsumeLoopStopsOnClosedGroup(t *testing.T) {
	g := &fakeGroup{results: []error{sarama.ErrClosedConsumerGroup}, calls: make(chan struct{}, 10)}
	cancel, done := runLoop(t, g)
	defer cancel()
	select {
	case err := <-done:
		if !errors.Is(err, sarama.ErrClosedConsumerGroup) {
			t.Errorf("consumeLoop = %v, want ErrClosedConsumerGroup", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("consumeLoop kept going on a closed group")
	}
}

func TestConsumeLoopBackoffStopsWithContext(t *testing.T) {
	g := &fakeGroup{results: []error{errors.New("down")}, calls: make(chan struct{}, 10)}
	cancel, done := runLoop(t, g)
	<-g.calls
	cancel() // during the backoff sleep
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("consumeLoop = %v, want nil", err)
		}
	case <-time.After(time.Second):
		t.Fatal("backoff ignored the cancelled context")
	}
}
