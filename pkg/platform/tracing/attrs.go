package tracing

import (
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Attributes is a scratch list of attributes for a span's one SetAttributes call. The
// SDK copies what it is given, so the list's memory goes back to a pool: a list built
// per span (its slice escapes through the Span interface) was the largest allocation
// of our own at 100 % sampling, 0.8 KB per span (BenchmarkHandleRecordOTLP's and
// BenchmarkGatewayPingOTLP's memory profiles).
type Attributes struct {
	kv []attribute.KeyValue
}

var attributesPool = sync.Pool{New: func() any { return &Attributes{kv: make([]attribute.KeyValue, 0, 16)} }}

// NewAttributes takes an empty list from the pool; SetOn gives it back.
func NewAttributes() *Attributes {
	return attributesPool.Get().(*Attributes)
}

// Add appends kv to the list.
func (a *Attributes) Add(kv ...attribute.KeyValue) {
	a.kv = append(a.kv, kv...)
}

// SetOn sets the list's attributes on span in one call and returns the list to the
// pool; a must not be used after.
func (a *Attributes) SetOn(span trace.Span) {
	span.SetAttributes(a.kv...)
	clear(a.kv) // the pool must not keep the values' strings alive
	a.kv = a.kv[:0]
	attributesPool.Put(a)
}
