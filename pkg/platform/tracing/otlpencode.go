package tracing

import (
	"math"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// The recorder writes spans straight into the OTLP protobuf wire format
// (opentelemetry/proto/trace/v1). The OTLP exporter's own path builds a tree of
// generated messages first (three allocations per attribute) and then marshals it:
// together two thirds of what an exported span cost (BenchmarkGatewayPingOTLP,
// BenchmarkHandleRecordOTLP profiles).

// Field numbers of opentelemetry/proto/{trace,common,resource}/v1.
const (
	resourceSpansResource   = 1
	resourceSpansScopeSpans = 2
	resourceSpansSchemaURL  = 3

	resourceAttributes = 1

	scopeSpansScope     = 1
	scopeSpansSpans     = 2
	scopeSpansSchemaURL = 3

	scopeName       = 1
	scopeVersion    = 2
	scopeAttributes = 3

	spanTraceID                = 1
	spanSpanID                 = 2
	spanTraceState             = 3
	spanParentSpanID           = 4
	spanName                   = 5
	spanKind                   = 6
	spanStartTime              = 7
	spanEndTime                = 8
	spanAttributes             = 9
	spanDroppedAttributesCount = 10
	spanEvents                 = 11
	spanDroppedEventsCount     = 12
	spanLinks                  = 13
	spanDroppedLinksCount      = 14
	spanStatus                 = 15
	spanFlags                  = 16

	eventTime                   = 1
	eventName                   = 2
	eventAttributes             = 3
	eventDroppedAttributesCount = 4

	linkTraceID                = 1
	linkSpanID                 = 2
	linkTraceState             = 3
	linkAttributes             = 4
	linkDroppedAttributesCount = 5
	linkFlags                  = 6

	statusMessage = 2
	statusCode    = 3

	keyValueKey   = 1
	keyValueValue = 2

	anyString = 1
	anyBool   = 2
	anyInt    = 3
	anyDouble = 4
	anyArray  = 5
	anyKVList = 6
	anyBytes  = 7

	arrayValues = 1 // ArrayValue.values and KeyValueList.values

	// SpanFlags: the span says whether its parent is remote, and whether it is.
	flagHasIsRemote = 0x100
	flagIsRemote    = 0x200

	// Status.code
	statusOK    = 1
	statusError = 2
)

func appendResource(b []byte, res *resource.Resource) []byte {
	n := 0
	for iter := res.Iter(); iter.Next(); {
		n += sizeKeyValueField(resourceAttributes, iter.Attribute())
	}
	b = protowire.AppendTag(b, resourceSpansResource, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	for iter := res.Iter(); iter.Next(); {
		b = appendKeyValueField(b, resourceAttributes, iter.Attribute())
	}
	return b
}

func appendScope(b []byte, scope instrumentation.Scope) []byte {
	n := sizeString(scopeName, scope.Name) + sizeString(scopeVersion, scope.Version)
	for iter := scope.Attributes.Iter(); iter.Next(); {
		n += sizeKeyValueField(scopeAttributes, iter.Attribute())
	}
	b = protowire.AppendTag(b, scopeSpansScope, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	b = appendString(b, scopeName, scope.Name)
	b = appendString(b, scopeVersion, scope.Version)
	for iter := scope.Attributes.Iter(); iter.Next(); {
		b = appendKeyValueField(b, scopeAttributes, iter.Attribute())
	}
	return b
}

// appendSpan appends the fields of s, ended, as a Span message.
func appendSpan(b []byte, s *span) []byte {
	sc, parent := s.sc, s.parent
	tid, sid := sc.TraceID(), sc.SpanID()
	b = protowire.AppendTag(b, spanTraceID, protowire.BytesType)
	b = protowire.AppendBytes(b, tid[:])
	b = protowire.AppendTag(b, spanSpanID, protowire.BytesType)
	b = protowire.AppendBytes(b, sid[:])
	if ts := sc.TraceState(); ts.Len() > 0 {
		b = appendString(b, spanTraceState, ts.String())
	}
	if psid := parent.SpanID(); psid.IsValid() {
		b = protowire.AppendTag(b, spanParentSpanID, protowire.BytesType)
		b = protowire.AppendBytes(b, psid[:])
	}
	b = appendString(b, spanName, s.name)
	b = appendVarint(b, spanKind, uint64(kind(s.kind)))
	b = protowire.AppendTag(b, spanStartTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, unixNano(s.start.UnixNano()))
	b = protowire.AppendTag(b, spanEndTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, unixNano(s.end.UnixNano()))
	for _, kv := range s.attrs.kv {
		b = appendKeyValueField(b, spanAttributes, kv)
	}
	b = appendVarint(b, spanDroppedAttributesCount, clamp(s.droppedAttrs))
	for _, ev := range s.events {
		b = appendEvent(b, ev)
	}
	b = appendVarint(b, spanDroppedEventsCount, clamp(s.droppedEvents))
	for _, l := range s.links {
		b = appendLink(b, l)
	}
	b = appendVarint(b, spanDroppedLinksCount, clamp(s.droppedLinks))
	st := s.status
	code := uint64(0)
	switch st.Code {
	case codes.Ok:
		code = statusOK
	case codes.Error:
		code = statusError
	}
	b = protowire.AppendTag(b, spanStatus, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(sizeString(statusMessage, st.Description)+sizeVarint(statusCode, code)))
	b = appendString(b, statusMessage, st.Description)
	b = appendVarint(b, statusCode, code)
	b = protowire.AppendTag(b, spanFlags, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, flags(sc.TraceFlags(), parent))
}

func appendEvent(b []byte, ev sdktrace.Event) []byte {
	n := protowire.SizeTag(eventTime) + 8 + sizeString(eventName, ev.Name) +
		sizeVarint(eventDroppedAttributesCount, clamp(ev.DroppedAttributeCount))
	for _, kv := range ev.Attributes {
		n += sizeKeyValueField(eventAttributes, kv)
	}
	b = protowire.AppendTag(b, spanEvents, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	b = protowire.AppendTag(b, eventTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, unixNano(ev.Time.UnixNano()))
	b = appendString(b, eventName, ev.Name)
	for _, kv := range ev.Attributes {
		b = appendKeyValueField(b, eventAttributes, kv)
	}
	return appendVarint(b, eventDroppedAttributesCount, clamp(ev.DroppedAttributeCount))
}

func appendLink(b []byte, l sdktrace.Link) []byte {
	tid, sid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
	n := 2*protowire.SizeTag(linkTraceID) + protowire.SizeBytes(len(tid)) + protowire.SizeBytes(len(sid)) +
		sizeVarint(linkDroppedAttributesCount, clamp(l.DroppedAttributeCount)) + protowire.SizeTag(linkFlags) + 4
	for _, kv := range l.Attributes {
		n += sizeKeyValueField(linkAttributes, kv)
	}
	b = protowire.AppendTag(b, spanLinks, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	b = protowire.AppendTag(b, linkTraceID, protowire.BytesType)
	b = protowire.AppendBytes(b, tid[:])
	b = protowire.AppendTag(b, linkSpanID, protowire.BytesType)
	b = protowire.AppendBytes(b, sid[:])
	for _, kv := range l.Attributes {
		b = appendKeyValueField(b, linkAttributes, kv)
	}
	b = appendVarint(b, linkDroppedAttributesCount, clamp(l.DroppedAttributeCount))
	b = protowire.AppendTag(b, linkFlags, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, flags(l.SpanContext.TraceFlags(), l.SpanContext))
}

// flags are the OTLP span flags: the W3C trace flags, and whether the parent is remote.
func flags(tf trace.TraceFlags, parent trace.SpanContext) uint32 {
	f := uint32(tf) | flagHasIsRemote
	if parent.IsRemote() {
		f |= flagIsRemote
	}
	return f
}

// kind maps the API's span kinds to OTLP's, which share their numbers (0 to 5).
func kind(k trace.SpanKind) trace.SpanKind {
	if k < trace.SpanKindUnspecified || k > trace.SpanKindConsumer {
		return trace.SpanKindUnspecified
	}
	return k
}

func unixNano(ns int64) uint64 { return uint64(max(0, ns)) }

func clamp(v int) uint64 { return uint64(min(max(v, 0), math.MaxUint32)) }

// KeyValue and AnyValue (opentelemetry/proto/common/v1), sized before they are written.

func sizeKeyValueField(num protowire.Number, kv attribute.KeyValue) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(sizeKeyValue(kv))
}

func sizeKeyValue(kv attribute.KeyValue) int {
	return sizeKeyValueOf(kv, sizeAny(kv.Value))
}

// sizeKeyValueOf is sizeKeyValue with the value's size known.
func sizeKeyValueOf(kv attribute.KeyValue, valueSize int) int {
	return sizeString(keyValueKey, string(kv.Key)) + protowire.SizeTag(keyValueValue) + protowire.SizeBytes(valueSize)
}

func appendKeyValueField(b []byte, num protowire.Number, kv attribute.KeyValue) []byte {
	valueSize := sizeAny(kv.Value)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(sizeKeyValueOf(kv, valueSize)))
	b = appendString(b, keyValueKey, string(kv.Key))
	b = protowire.AppendTag(b, keyValueValue, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(valueSize))
	return appendAny(b, kv.Value)
}

// sizeAny is the size of v as an AnyValue, without its tag and length.
func sizeAny(v attribute.Value) int {
	switch v.Type() {
	case attribute.BOOL:
		return protowire.SizeTag(anyBool) + 1
	case attribute.INT64:
		return protowire.SizeTag(anyInt) + protowire.SizeVarint(uint64(v.AsInt64()))
	case attribute.FLOAT64:
		return protowire.SizeTag(anyDouble) + 8
	case attribute.STRING:
		return protowire.SizeTag(anyString) + protowire.SizeBytes(len(v.AsString()))
	case attribute.BYTESLICE:
		return protowire.SizeTag(anyBytes) + protowire.SizeBytes(len(v.AsByteSlice()))
	case attribute.EMPTY:
		return 0
	case attribute.BOOLSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE, attribute.STRINGSLICE, attribute.SLICE:
		return protowire.SizeTag(anyArray) + protowire.SizeBytes(sizeArray(v))
	case attribute.MAP:
		return protowire.SizeTag(anyKVList) + protowire.SizeBytes(sizeKVList(v.AsMap()))
	default:
		return protowire.SizeTag(anyString) + protowire.SizeBytes(len("INVALID"))
	}
}

func appendAny(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		b = protowire.AppendTag(b, anyBool, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(v.AsBool()))
	case attribute.INT64:
		b = protowire.AppendTag(b, anyInt, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.AsInt64()))
	case attribute.FLOAT64:
		b = protowire.AppendTag(b, anyDouble, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		b = protowire.AppendTag(b, anyString, protowire.BytesType)
		return protowire.AppendString(b, v.AsString())
	case attribute.BYTESLICE:
		b = protowire.AppendTag(b, anyBytes, protowire.BytesType)
		return protowire.AppendBytes(b, v.AsByteSlice())
	case attribute.EMPTY:
		return b
	case attribute.BOOLSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE, attribute.STRINGSLICE, attribute.SLICE:
		b = protowire.AppendTag(b, anyArray, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeArray(v)))
		for _, e := range elements(v) {
			b = protowire.AppendTag(b, arrayValues, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(sizeAny(e)))
			b = appendAny(b, e)
		}
		return b
	case attribute.MAP:
		kvs := v.AsMap()
		b = protowire.AppendTag(b, anyKVList, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeKVList(kvs)))
		for _, kv := range kvs {
			b = appendKeyValueField(b, arrayValues, kv)
		}
		return b
	default:
		b = protowire.AppendTag(b, anyString, protowire.BytesType)
		return protowire.AppendString(b, "INVALID")
	}
}

func sizeArray(v attribute.Value) int {
	n := 0
	for _, e := range elements(v) {
		n += protowire.SizeTag(arrayValues) + protowire.SizeBytes(sizeAny(e))
	}
	return n
}

func sizeKVList(kvs []attribute.KeyValue) int {
	n := 0
	for _, kv := range kvs {
		n += sizeKeyValueField(arrayValues, kv)
	}
	return n
}

// elements are the values of a slice attribute (rare on spans: allocating is fine).
func elements(v attribute.Value) []attribute.Value {
	switch v.Type() {
	case attribute.BOOLSLICE:
		return values(v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		return values(v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		return values(v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		return values(v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		return v.AsSlice()
	}
	return nil
}

func values[T any](xs []T, value func(T) attribute.Value) []attribute.Value {
	out := make([]attribute.Value, len(xs))
	for i, x := range xs {
		out[i] = value(x)
	}
	return out
}

// Scalars, left out when zero as proto3 does.

func sizeString(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func sizeVarint(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}
