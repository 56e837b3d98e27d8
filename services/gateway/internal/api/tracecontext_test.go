package api

import (
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/baggage"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// By default a client's traceparent and baggage do not reach the record: the trace is
// the gateway's own, and no client-chosen baggage is passed on.
func TestClientTraceContextIsDroppedUnlessTrusted(t *testing.T) {
	for _, trust := range []bool{false, true} {
		pub := &spanPublisher{}
		readiness := &probe.Readiness{}
		readiness.Set(nil)
		router := sampleRouter(t, Deps{Logger: zap.NewNop(), Readiness: readiness, Tracing: tracing.Disabled(), TrustIncomingTraceContext: trust},
			Sample{Version: "1", Now: time.Now}, gatewaykit.NewKit(pub, nil))
		get(router, "/v1/ping", http.Header{
			"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
			"Baggage":     {"tenant=attacker"},
		})
		if len(pub.got) != 1 {
			t.Fatalf("trust=%v: %d publishes, want 1", trust, len(pub.got))
		}
		if adopted := pub.got[0].SpanID().String() == "00f067aa0ba902b7"; adopted != trust {
			t.Errorf("trust=%v: client's trace context adopted = %v", trust, adopted)
		}
		if got := baggage.FromContext(pub.ctxs[0]).Member("tenant").Value(); (got == "attacker") != trust {
			t.Errorf("trust=%v: baggage tenant = %q", trust, got)
		}
	}
}
