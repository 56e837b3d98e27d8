package router

import (
	"time"

	"github.com/IBM/sarama"
)

// Message is what a handler receives: the decoded body and where it came from.
type Message[T any] struct {
	Body T
	// CorrelationID is the record's correlation_id header, else the body's (see
	// Correlated), else "".
	CorrelationID string
	Key           []byte
	Headers       Headers
	Topic         string
	Partition     int32
	Offset        int64
	Timestamp     time.Time
	// Attempt is 1 on the first call and grows with each retry; a redelivery after a
	// crash or rebalance starts at 1 again.
	Attempt int
}

// Headers are a record's headers.
type Headers []*sarama.RecordHeader

// Get returns the value of the first header named key, or "".
func (h Headers) Get(key string) string {
	for _, rh := range h {
		if rh != nil && string(rh.Key) == key {
			return string(rh.Value)
		}
	}
	return ""
}

// Correlated is implemented by bodies that carry their own correlation ID (the
// pkg/messages envelopes do). The router names a request by it when the record has no
// correlation_id header, and keys a reply with it.
type Correlated interface {
	Correlation() string
}
