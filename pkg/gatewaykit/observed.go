package gatewaykit

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// Publish outcomes, the values of the outcome label of PublishMetrics.Publishes.
const (
	OutcomeSuccess = "success"
	OutcomeError   = "error"
)

// PublishMetrics are the collectors Observed updates; the service registers them.
type PublishMetrics struct {
	Publishes *prometheus.CounterVec // outcome
	Duration  prometheus.Histogram
	InFlight  prometheus.Gauge
}

// Observed measures every send of the Sender it wraps and runs it under a producer
// span, whose context that Sender writes into the record's headers.
type Observed struct {
	next    Sender
	metrics PublishMetrics
	tracing *tracing.Tracing
}

// Observe wraps next.
func Observe(next Sender, m PublishMetrics, t *tracing.Tracing) *Observed {
	return &Observed{next: next, metrics: m, tracing: t}
}

// Send sends rec through the wrapped Sender.
func (o *Observed) Send(ctx context.Context, rec Record) error {
	ctx, span := o.tracing.StartSend(ctx, rec.Topic)
	o.metrics.InFlight.Inc()
	start := time.Now()
	err := o.next.Send(ctx, rec)
	o.metrics.Duration.Observe(time.Since(start).Seconds())
	o.metrics.InFlight.Dec()
	outcome := OutcomeSuccess
	if err != nil {
		outcome = OutcomeError
	}
	o.metrics.Publishes.WithLabelValues(outcome).Inc()
	tracing.End(span, err)
	return err
}
