package tracing

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// span is a span the recorder records, with the SDK's semantics: a key set again
// keeps its place and takes the new value, the span limits drop what is over them
// (the oldest events and links first), a status only moves up from unset to error to
// ok, and nothing changes once it ended. Its methods are safe for concurrent use.
type span struct {
	embedded.Span

	tracer *tracer
	sc     trace.SpanContext
	parent trace.SpanContext
	start  time.Time

	ended atomic.Bool // set under mu; read alone by IsRecording

	mu            sync.Mutex
	end           time.Time
	name          string
	kind          trace.SpanKind
	attrs         *attributeList // pooled; returned when the span is written
	droppedAttrs  int
	events        []sdktrace.Event
	droppedEvents int
	links         []sdktrace.Link
	droppedLinks  int
	status        sdktrace.Status
}

type attributeList struct{ kv []attribute.KeyValue }

var attributeLists = sync.Pool{New: func() any { return &attributeList{kv: make([]attribute.KeyValue, 0, 16)} }}

func newSpan(t *tracer, name string, parent, sc trace.SpanContext, cfg trace.SpanConfig) *span {
	start := cfg.Timestamp()
	if start.IsZero() {
		start = time.Now()
	}
	return &span{
		tracer: t, sc: sc, parent: parent, start: start, name: name,
		kind:  trace.ValidateSpanKind(cfg.SpanKind()),
		attrs: attributeLists.Get().(*attributeList),
	}
}

func (s *span) SpanContext() trace.SpanContext       { return s.sc }
func (s *span) IsRecording() bool                    { return !s.ended.Load() }
func (s *span) TracerProvider() trace.TracerProvider { return s.tracer.recorder }

func (s *span) SetAttributes(kv ...attribute.KeyValue) {
	if len(kv) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended.Load() {
		return
	}
	limits := s.tracer.recorder.limits
	for _, a := range kv {
		if !a.Valid() {
			s.droppedAttrs++
			continue
		}
		if !setAttribute(&s.attrs.kv, truncate(a, limits.AttributeValueLengthLimit), limits.AttributeCountLimit) {
			s.droppedAttrs++
		}
	}
}

// setAttribute replaces the value of a's key in list, or appends a if list has fewer
// than limit attributes (limit < 0: no limit); false when a was dropped. A linear
// search: spans have a dozen attributes, where the SDK's map cost more.
func setAttribute(list *[]attribute.KeyValue, a attribute.KeyValue, limit int) bool {
	for i := range *list {
		if (*list)[i].Key == a.Key {
			(*list)[i] = a
			return true
		}
	}
	if limit >= 0 && len(*list) >= limit {
		return false
	}
	*list = append(*list, a)
	return true
}

// truncate cuts string values to limit bytes at a character boundary (limit < 0:
// no limit), as the SDK does with OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT.
func truncate(a attribute.KeyValue, limit int) attribute.KeyValue {
	if limit < 0 {
		return a
	}
	cut := func(s string) string {
		if len(s) <= limit {
			return s
		}
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > limit {
				break
			}
			n += size
		}
		return s[:n]
	}
	switch a.Value.Type() {
	case attribute.STRING:
		return a.Key.String(cut(a.Value.AsString()))
	case attribute.STRINGSLICE:
		ss := a.Value.AsStringSlice()
		for i := range ss {
			ss[i] = cut(ss[i])
		}
		return a.Key.StringSlice(ss)
	}
	return a
}

// limitedAttributes keeps at most limit of kv (limit < 0: all), as given, and says
// how many it dropped: the SDK keeps an event's or a link's attributes as given.
func limitedAttributes(kv []attribute.KeyValue, limit int) ([]attribute.KeyValue, int) {
	if limit >= 0 && len(kv) > limit {
		return kv[:limit], len(kv) - limit
	}
	return kv, 0
}

func (s *span) AddEvent(name string, opts ...trace.EventOption) {
	if !s.IsRecording() {
		return
	}
	s.addEvent(name, trace.NewEventConfig(opts...))
}

func (s *span) addEvent(name string, cfg trace.EventConfig) {
	limits := s.tracer.recorder.limits
	attrs, dropped := limitedAttributes(cfg.Attributes(), limits.AttributePerEventCountLimit)
	ev := sdktrace.Event{Name: name, Attributes: attrs, DroppedAttributeCount: dropped, Time: cfg.Timestamp()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended.Load() {
		return
	}
	s.events, s.droppedEvents = evict(s.events, ev, limits.EventCountLimit, s.droppedEvents)
}

// evict appends x to list, dropping the oldest entry once list holds limit (limit < 0:
// no limit, 0: none kept), and counts what it dropped.
func evict[T any](list []T, x T, limit, dropped int) ([]T, int) {
	switch {
	case limit == 0:
		return list, dropped + 1
	case limit > 0 && len(list) >= limit:
		copy(list, list[1:])
		list[len(list)-1] = x
		return list, dropped + 1
	}
	return append(list, x), dropped
}

// RecordError adds an exception event for err, as the SDK does.
func (s *span) RecordError(err error, opts ...trace.EventOption) {
	if err == nil || !s.IsRecording() {
		return
	}
	opts = append(opts, trace.WithAttributes(
		semconv.ExceptionTypeKey.String(typeName(err)),
		semconv.ExceptionMessageKey.String(err.Error()),
	))
	if cfg := trace.NewEventConfig(opts...); cfg.StackTrace() {
		stack := make([]byte, 2048)
		opts = append(opts, trace.WithAttributes(semconv.ExceptionStacktraceKey.String(string(stack[:runtime.Stack(stack, false)]))))
	}
	s.addEvent(semconv.ExceptionEventName, trace.NewEventConfig(opts...))
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.PkgPath() == "" && t.Name() == "" {
		return t.String()
	}
	return fmt.Sprintf("%s.%s", t.PkgPath(), t.Name())
}

func (s *span) AddLink(link trace.Link) {
	if !link.SpanContext.IsValid() && len(link.Attributes) == 0 && link.SpanContext.TraceState().Len() == 0 {
		return
	}
	limits := s.tracer.recorder.limits
	attrs, dropped := limitedAttributes(link.Attributes, limits.AttributePerLinkCountLimit)
	l := sdktrace.Link{SpanContext: link.SpanContext, Attributes: attrs, DroppedAttributeCount: dropped}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended.Load() {
		return
	}
	s.links, s.droppedLinks = evict(s.links, l, limits.LinkCountLimit, s.droppedLinks)
}

func (s *span) SetStatus(code codes.Code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended.Load() || s.status.Code > code {
		return
	}
	s.status = sdktrace.Status{Code: code}
	if code == codes.Error {
		s.status.Description = description
	}
}

func (s *span) SetName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended.Load() {
		s.name = name
	}
}

// End ends the span and, if it is sampled, writes it into the batch being built.
// Nothing changes it after: its writers check ended under mu.
func (s *span) End(opts ...trace.SpanEndOption) {
	s.mu.Lock()
	if s.ended.Load() {
		s.mu.Unlock()
		return
	}
	s.ended.Store(true)
	s.mu.Unlock()
	cfg := trace.NewSpanEndConfig(opts...)
	s.end = cfg.Timestamp()
	if s.end.IsZero() {
		s.end = s.start.Add(time.Since(s.start)) // the monotonic clock's duration
	}
	if s.sc.IsSampled() {
		s.tracer.recorder.batches.add(s)
	}
	clear(s.attrs.kv) // the pool must not keep the values' strings alive
	s.attrs.kv = s.attrs.kv[:0]
	attributeLists.Put(s.attrs)
	s.attrs = nil
}
