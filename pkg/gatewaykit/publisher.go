package gatewaykit

import (
	"context"
	"fmt"
)

// Meta is what a record carries beside its body.
type Meta struct {
	// CorrelationID is the record's correlation_id header: the HTTP request's
	// X-Correlation-ID, so one ID follows a request through every service's logs.
	CorrelationID string
	// Key is the record's key, which picks its partition and, in a worker ordering by
	// key, the records it is handled in order with; "" uses CorrelationID.
	Key string
}

func (m Meta) key() string {
	if m.Key != "" {
		return m.Key
	}
	return m.CorrelationID
}

// Publisher publishes messages of type T to one topic, encoded with its codec.
type Publisher[T any] struct {
	sender Sender
	topic  string
	codec  Codec[T]
}

// NewPublisher returns a publisher of T to topic through kit.
func NewPublisher[T any](kit *Kit, topic string, codec Codec[T]) *Publisher[T] {
	kit.use(topic)
	return &Publisher[T]{sender: kit.sender, topic: topic, codec: codec}
}

// Topic is where the publisher writes.
func (p *Publisher[T]) Topic() string { return p.topic }

// Publish encodes msg and sends it; it returns once the broker has acknowledged it.
func (p *Publisher[T]) Publish(ctx context.Context, msg T, meta Meta) error {
	return p.send(ctx, msg, Record{Topic: p.topic, Key: meta.key(), CorrelationID: meta.CorrelationID})
}

func (p *Publisher[T]) send(ctx context.Context, msg T, rec Record) error {
	value, err := p.codec.Encode(msg)
	if err != nil {
		return fmt.Errorf("gatewaykit: encode for %s: %w", p.topic, err)
	}
	rec.Value = value
	return p.sender.Send(ctx, rec)
}
