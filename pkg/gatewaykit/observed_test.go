package gatewaykit

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// recordingSender keeps the records it is given and fails with err when set.
type recordingSender struct {
	records []Record
	err     error
}

func (s *recordingSender) Send(_ context.Context, rec Record) error {
	s.records = append(s.records, rec)
	return s.err
}

func testMetrics() PublishMetrics {
	return PublishMetrics{
		Publishes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "publishes_total"}, []string{"outcome"}),
		Duration:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "publish_duration_seconds"}),
		InFlight:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "publishes_in_flight"}),
	}
}

// Every send is counted by outcome and handed on unchanged.
func TestObservedCountsOutcomes(t *testing.T) {
	m := testMetrics()
	next := &recordingSender{}
	o := Observe(next, m, tracing.Disabled())
	rec := Record{Topic: "in-topic", Key: "a", Value: []byte("{}"), CorrelationID: "req-1", ReplyTo: "in-topic.replies"}
	if err := o.Send(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	next.err = errors.New("broker gone")
	if err := o.Send(context.Background(), rec); !errors.Is(err, next.err) {
		t.Fatalf("Send = %v, want the wrapped sender's error", err)
	}
	if len(next.records) != 2 || next.records[0].ReplyTo != "in-topic.replies" || next.records[0].CorrelationID != "req-1" {
		t.Errorf("wrapped Send got %+v", next.records)
	}
	for outcome, want := range map[string]float64{OutcomeSuccess: 1, OutcomeError: 1} {
		if got := testutil.ToFloat64(m.Publishes.WithLabelValues(outcome)); got != want {
			t.Errorf("publishes{outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	if got := testutil.ToFloat64(m.InFlight); got != 0 {
		t.Errorf("in flight after both returned = %v", got)
	}
}
