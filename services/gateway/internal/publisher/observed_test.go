package publisher

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

type fakeRequester struct{ replyTo, requestID string }

func (*fakeRequester) Publish(context.Context, messages.SampleReqMsg) error { return nil }
func (f *fakeRequester) Request(_ context.Context, _ messages.SampleReqMsg, replyTo, requestID string) error {
	f.replyTo, f.requestID = replyTo, requestID
	return nil
}

// Requests awaiting a reply are measured like every other publish.
func TestObservedRequestIsMeasured(t *testing.T) {
	m, err := metrics.New("1")
	if err != nil {
		t.Fatal(err)
	}
	next := &fakeRequester{}
	o := Observe(next, "in-topic", m, tracing.Disabled())
	if err := o.Request(context.Background(), messages.NewRequest("a", "m", time.Now()), "in-topic.replies", "req-1"); err != nil {
		t.Fatal(err)
	}
	if next.replyTo != "in-topic.replies" || next.requestID != "req-1" {
		t.Errorf("wrapped Request got %q %q", next.replyTo, next.requestID)
	}
	if got := testutil.ToFloat64(m.Publishes.WithLabelValues(metrics.OutcomeSuccess)); got != 1 {
		t.Errorf("publishes{outcome=success} = %v, want 1", got)
	}
}
