package publisher

import (
	"context"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

// Publisher hands a request to the worker.
type Publisher interface {
	Publish(ctx context.Context, msg messages.SampleReqMsg) error
}

// Observed measures every publish of the Publisher it wraps and runs it under a
// producer span, whose context that Publisher writes into the record's headers.
type Observed struct {
	next    Publisher
	topic   string
	metrics *metrics.Metrics
	tracing *tracing.Tracing
}

// Observe wraps next, which publishes to topic.
func Observe(next Publisher, topic string, m *metrics.Metrics, t *tracing.Tracing) *Observed {
	return &Observed{next: next, topic: topic, metrics: m, tracing: t}
}

// Publish publishes msg through the wrapped Publisher.
func (o *Observed) Publish(ctx context.Context, msg messages.SampleReqMsg) error {
	ctx, span := o.tracing.StartSend(ctx, o.topic)
	o.metrics.PublishesInFlight.Inc()
	start := time.Now()
	err := o.next.Publish(ctx, msg)
	o.metrics.PublishDuration.Observe(time.Since(start).Seconds())
	o.metrics.PublishesInFlight.Dec()
	outcome := metrics.OutcomeSuccess
	if err != nil {
		outcome = metrics.OutcomeError
	}
	o.metrics.Publishes.WithLabelValues(outcome).Inc()
	tracing.End(span, err)
	return err
}
