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

// Requester is a Publisher that can also publish a request awaiting its reply on a
// reply topic (POST /v1/requests); *Kafka is one.
type Requester interface {
	Publisher
	Request(ctx context.Context, msg messages.SampleReqMsg, replyTo, requestID string) error
}

// Observed measures every publish of the Requester it wraps and runs it under a
// producer span, whose context that Requester writes into the record's headers.
type Observed struct {
	next    Requester
	topic   string
	metrics *metrics.Metrics
	tracing *tracing.Tracing
}

// Observe wraps next, which publishes to topic.
func Observe(next Requester, topic string, m *metrics.Metrics, t *tracing.Tracing) *Observed {
	return &Observed{next: next, topic: topic, metrics: m, tracing: t}
}

// Publish publishes msg through the wrapped Publisher.
func (o *Observed) Publish(ctx context.Context, msg messages.SampleReqMsg) error {
	return o.observe(ctx, func(ctx context.Context) error { return o.next.Publish(ctx, msg) })
}

// Request publishes a request awaiting its reply on replyTo through the wrapped
// Publisher, measured and traced as Publish is.
func (o *Observed) Request(ctx context.Context, msg messages.SampleReqMsg, replyTo, requestID string) error {
	return o.observe(ctx, func(ctx context.Context) error { return o.next.Request(ctx, msg, replyTo, requestID) })
}

func (o *Observed) observe(ctx context.Context, publish func(context.Context) error) error {
	ctx, span := o.tracing.StartSend(ctx, o.topic)
	o.metrics.PublishesInFlight.Inc()
	start := time.Now()
	err := publish(ctx)
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
