package workerapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/probe"
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
	cancel, done, _ := runLoopWith(t, g, kafka.Security{})
	return cancel, done
}

func runLoopWith(t *testing.T, g *fakeGroup, security kafka.Security) (context.CancelFunc, chan error, *probe.Readiness) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := &probe.Readiness{}
	go func() {
		done <- sessionLoop{
			group: g, topics: []string{"in-topic"}, security: security,
			log: zap.NewNop(), ready: ready, connected: connectedGauge(),
		}.run(ctx)
	}()
	return cancel, done, ready
}

// A session that fails because the cluster refuses the credentials ends the loop, so
// that consume builds a new client from the secret files; readiness says why.
func TestSessionLoopAsksForNewClientWhenCredentialsAreRefused(t *testing.T) {
	refused := fmt.Errorf("kafka: client has run out of available brokers to talk to: %w", sarama.ErrSASLAuthenticationFailed)
	g := &fakeGroup{results: []error{errors.New("broker down"), refused}, calls: make(chan struct{}, 10)}
	security := kafka.Security{SASL: kafka.SASL{Mechanism: kafka.MechanismSCRAMSHA512, Username: "worker", Password: "s3cret"}}
	cancel, done, ready := runLoopWith(t, g, security)
	defer cancel()
	select {
	case err := <-done:
		if !errors.Is(err, errRebuild) {
			t.Fatalf("sessionLoop.run = %v, want errRebuild", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sessionLoop.run kept retrying with refused credentials")
	}
	want := `kafka: SASL authentication failed for user "worker" (SCRAM-SHA-512)`
	if err := ready.Err(); err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("readiness = %v, want %s... without the password", err, want)
	}
}

func TestSessionLoopRetriesFailedSessionsAndStopsWithContext(t *testing.T) {
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
	// Two failures, each followed by the first backoff step (a success resets it),
	// jittered to at least half of it.
	if waited := time.Since(began); waited < reconnectMin {
		t.Errorf("retried after %v, want at least %v of backoff", waited, reconnectMin)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("sessionLoop.run = %v, want nil after ctx is done", err)
	}
}

func TestSessionLoopStopsOnClosedGroup(t *testing.T) {
	g := &fakeGroup{results: []error{sarama.ErrClosedConsumerGroup}, calls: make(chan struct{}, 10)}
	cancel, done := runLoop(t, g)
	defer cancel()
	select {
	case err := <-done:
		if !errors.Is(err, sarama.ErrClosedConsumerGroup) {
			t.Errorf("sessionLoop.run = %v, want ErrClosedConsumerGroup", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sessionLoop.run kept going on a closed group")
	}
}

func TestSessionLoopBackoffStopsWithContext(t *testing.T) {
	g := &fakeGroup{results: []error{errors.New("down")}, calls: make(chan struct{}, 10)}
	cancel, done := runLoop(t, g)
	<-g.calls
	cancel() // during the backoff sleep
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("sessionLoop.run = %v, want nil", err)
		}
	case <-time.After(time.Second):
		t.Fatal("backoff ignored the cancelled context")
	}
}

func connectedGauge() prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: "streamgate_kafka_connected"})
}

// A credential refusal reported in the background (a fetch connection that failed to
// re-authenticate) asks for a new client; other background errors are only logged.
func TestLogGroupErrorsReportsRefusedCredentials(t *testing.T) {
	errs := make(chan error, 3)
	errs <- errors.New("kafka: error while consuming in-topic/0: i/o timeout")
	errs <- fmt.Errorf("kafka: error while consuming in-topic/1: %w", sarama.ErrSASLAuthenticationFailed)
	errs <- sarama.ErrGroupAuthorizationFailed
	close(errs)
	refused := 0
	logGroupErrors(errs, kafka.Security{}, zap.NewNop(), func() { refused++ })
	if refused != 1 {
		t.Fatalf("refused called %d times, want once, for the SASL failure", refused)
	}
}
