package publisher

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/kafka"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// Before a connection and after Close, Publish refuses with ErrNotConnected instead of
// touching a missing or closed producer; Run gives up when its context ends.
func TestPublishWithoutConnection(t *testing.T) {
	k := NewKafka([]string{"127.0.0.1:1"}, "in-topic", kafka.Security{}, zap.NewNop(), tracing.Disabled())
	msg := messages.NewRequest("id-1", "Send for in-topic", time.Now())
	if err := k.Publish(context.Background(), msg); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Publish before Connect = %v, want ErrNotConnected", err)
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
	if err := k.Publish(context.Background(), msg); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Publish after Close = %v, want ErrNotConnected", err)
	}
}
