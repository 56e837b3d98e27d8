package gatewaykit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

func testProducer() *Producer {
	return NewProducer(ProducerConfig{Brokers: []string{"127.0.0.1:1"}, Logger: zap.NewNop(), Tracing: tracing.Disabled()})
}

// Before a connection and after Close, Send refuses with ErrNotConnected instead of
// touching a missing or closed producer; Run gives up when its context ends.
func TestSendWithoutConnection(t *testing.T) {
	k := testProducer()
	rec := Record{Topic: "in-topic", Key: "id-1", Value: []byte("{}"), CorrelationID: "id-1"}
	if err := k.Send(context.Background(), rec); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Send before Connect = %v, want ErrNotConnected", err)
	}
	if err := k.Ping(); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Ping before Run = %v, want ErrNotConnected", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := k.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run against a closed port = %v, want the context's error", err)
	}
	// Readiness now says why, not just "not connected".
	if err := k.Ping(); !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Ping after a failed attempt = %v, want the connection error", err)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("Close without a connection = %v", err)
	}
	if err := k.Send(context.Background(), rec); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Send after Close = %v, want ErrNotConnected", err)
	}
}
