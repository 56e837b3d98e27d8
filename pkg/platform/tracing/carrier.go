package tracing

import (
	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/propagation"
)

// The carriers below let a propagator read and write trace context in sarama record
// headers. go.opentelemetry.io/contrib ships no instrumentation for IBM/sarama (its
// Shopify/sarama otelsarama was deprecated and never ported), and the third-party
// wrappers replace the producer and the consumer handler whole, which would hide the
// worker's own record lifecycle (a span per record that ends when its reply is
// acknowledged, across retries). A carrier is all that is needed.

// ProducerCarrier is a propagation.TextMapCarrier over a record to be sent.
type ProducerCarrier struct{ Msg *sarama.ProducerMessage }

var _ propagation.TextMapCarrier = ProducerCarrier{}

// Get returns the value of the first header named key, or "".
func (c ProducerCarrier) Get(key string) string {
	for _, h := range c.Msg.Headers {
		if string(h.Key) == key {
			return string(h.Value)
		}
	}
	return ""
}

// Set replaces every header named key with one holding value, so a record passed on
// (such as a dead letter) never carries two trace contexts.
func (c ProducerCarrier) Set(key, value string) {
	// A new slice: copies of a message may share the old one's array.
	kept := make([]sarama.RecordHeader, 0, len(c.Msg.Headers)+1)
	for _, h := range c.Msg.Headers {
		if string(h.Key) != key {
			kept = append(kept, h)
		}
	}
	c.Msg.Headers = append(kept, sarama.RecordHeader{Key: []byte(key), Value: []byte(value)})
}

// Keys returns the header names.
func (c ProducerCarrier) Keys() []string {
	keys := make([]string, len(c.Msg.Headers))
	for i, h := range c.Msg.Headers {
		keys[i] = string(h.Key)
	}
	return keys
}

// ConsumerCarrier is a read-only propagation.TextMapCarrier over a consumed record.
type ConsumerCarrier struct{ Msg *sarama.ConsumerMessage }

var _ propagation.TextMapCarrier = ConsumerCarrier{}

// Get returns the value of the first header named key, or "".
func (c ConsumerCarrier) Get(key string) string {
	for _, h := range c.Msg.Headers {
		if h != nil && string(h.Key) == key {
			return string(h.Value)
		}
	}
	return ""
}

// Set does nothing: a consumed record is not changed.
func (ConsumerCarrier) Set(string, string) {}

// Keys returns the header names.
func (c ConsumerCarrier) Keys() []string {
	keys := make([]string, 0, len(c.Msg.Headers))
	for _, h := range c.Msg.Headers {
		if h != nil {
			keys = append(keys, string(h.Key))
		}
	}
	return keys
}
