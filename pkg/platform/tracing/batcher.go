package tracing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/resource"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
)

// batchSettings are the batch span processor's settings (OTEL_BSP_*), with its
// defaults.
type batchSettings struct {
	delay     time.Duration // OTEL_BSP_SCHEDULE_DELAY: the longest a span waits for its export
	timeout   time.Duration // OTEL_BSP_EXPORT_TIMEOUT
	maxQueue  int           // OTEL_BSP_MAX_QUEUE_SIZE: spans ended and not yet exported
	batchSize int           // OTEL_BSP_MAX_EXPORT_BATCH_SIZE
}

var defaultBatchSettings = batchSettings{delay: 5 * time.Second, timeout: 30 * time.Second, maxQueue: 2048, batchSize: 512}

// batcher writes each ended span into the OTLP request being built (a ResourceSpans
// message, whose fields are encoded once per batch) and exports full batches, and the
// one being built every delay, from one goroutine. When the exports fall behind by
// more than maxQueue spans, it drops the batch being built and says so.
type batcher struct {
	client   otlptrace.Client
	settings batchSettings
	onError  func(error)
	resource []byte // the ResourceSpans.resource field, and its schema_url

	mu      sync.Mutex
	current *batch
	free    []*batch
	closed  bool
	dropped int

	full    chan *batch
	flushes chan chan struct{}
	stop    chan struct{}
	done    chan struct{}
	cancel  context.CancelFunc // the exports' context
	stopped sync.Once
}

type batch struct {
	spans  int
	scopes []scopeSpans
	out    []byte // the request's ResourceSpans, built at export
}

// scopeSpans are the encoded spans of one tracer (ScopeSpans.spans fields).
type scopeSpans struct {
	tracer *tracer
	spans  []byte
}

// encodeBuffers hold a span's encoding until it is copied into its batch, outside
// the batcher's lock.
var encodeBuffers = sync.Pool{New: func() any { return new([]byte) }}

// startBatcher starts the export goroutine for spans of res; shutdown stops it.
func startBatcher(client otlptrace.Client, res *resource.Resource, settings batchSettings, onError func(error)) *batcher {
	ctx, cancel := context.WithCancel(context.Background())
	b := &batcher{
		client:   client,
		settings: settings,
		onError:  onError,
		resource: encodeResource(res),
		full:     make(chan *batch, max(1, settings.maxQueue/settings.batchSize-1)),
		flushes:  make(chan chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		cancel:   cancel,
	}
	go b.run(ctx)
	return b
}

// encodeResource is the ResourceSpans.resource field of res, and its schema_url.
func encodeResource(res *resource.Resource) []byte {
	return appendString(appendResource(nil, res), resourceSpansSchemaURL, res.SchemaURL())
}

// add writes s into the batch being built, and queues that batch for export once it
// holds batchSize spans.
func (b *batcher) add(s *span) {
	buf := encodeBuffers.Get().(*[]byte)
	*buf = appendSpan((*buf)[:0], s)
	defer encodeBuffers.Put(buf)

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if b.current == nil {
		b.current = b.newBatch()
	}
	b.current.add(s.tracer, *buf)
	if b.current.spans < b.settings.batchSize {
		return
	}
	select {
	case b.full <- b.current:
		b.current = nil
	default:
		b.dropped += b.current.spans
		b.current.reset()
	}
}

func (b *batcher) newBatch() *batch {
	if n := len(b.free); n > 0 {
		bt := b.free[n-1]
		b.free = b.free[:n-1]
		return bt
	}
	return &batch{}
}

func (bt *batch) add(t *tracer, span []byte) {
	sc := &bt.scopes[bt.scopeOf(t)]
	sc.spans = protowire.AppendTag(sc.spans, scopeSpansSpans, protowire.BytesType)
	sc.spans = protowire.AppendBytes(sc.spans, span)
	bt.spans++
}

// scopeOf is the index of t's spans in bt, added if need be.
func (bt *batch) scopeOf(t *tracer) int {
	for i := range bt.scopes {
		if bt.scopes[i].tracer == t {
			return i
		}
	}
	n := len(bt.scopes)
	if n < cap(bt.scopes) {
		bt.scopes = bt.scopes[:n+1] // reuse an earlier batch's buffer
		bt.scopes[n].tracer = t
	} else {
		bt.scopes = append(bt.scopes, scopeSpans{tracer: t})
	}
	return n
}

func (bt *batch) reset() {
	bt.spans = 0
	for i := range bt.scopes {
		bt.scopes[i].tracer = nil
		bt.scopes[i].spans = bt.scopes[i].spans[:0]
	}
	bt.scopes = bt.scopes[:0]
}

// run exports until stop, then exports what is left.
func (b *batcher) run(ctx context.Context) {
	defer close(b.done)
	tick := time.NewTicker(b.settings.delay)
	defer tick.Stop()
	for {
		select {
		case bt := <-b.full:
			b.export(ctx, bt)
		case <-tick.C:
			b.exportCurrent(ctx)
		case ack := <-b.flushes:
			b.exportAll(ctx)
			close(ack)
		case <-b.stop:
			b.exportAll(ctx)
			return
		}
	}
}

func (b *batcher) exportAll(ctx context.Context) {
	for {
		select {
		case bt := <-b.full:
			b.export(ctx, bt)
		default:
			b.exportCurrent(ctx)
			return
		}
	}
}

func (b *batcher) exportCurrent(ctx context.Context) {
	b.mu.Lock()
	bt := b.current
	b.current = nil
	b.mu.Unlock()
	if bt != nil {
		b.export(ctx, bt)
	}
}

// export sends bt as one request and gives its buffers back.
func (b *batcher) export(ctx context.Context, bt *batch) {
	bt.out = append(bt.out[:0], b.resource...)
	for _, sc := range bt.scopes {
		n := len(sc.tracer.encodedScope) + len(sc.spans)
		url := sc.tracer.scope.SchemaURL
		n += sizeString(scopeSpansSchemaURL, url)
		bt.out = protowire.AppendTag(bt.out, resourceSpansScopeSpans, protowire.BytesType)
		bt.out = protowire.AppendVarint(bt.out, uint64(n))
		bt.out = append(bt.out, sc.tracer.encodedScope...)
		bt.out = append(bt.out, sc.spans...)
		bt.out = appendString(bt.out, scopeSpansSchemaURL, url)
	}
	msg := &tracepb.ResourceSpans{}
	msg.ProtoReflect().SetUnknown(bt.out) // marshalled back out unchanged
	ctx, cancel := context.WithTimeout(ctx, b.settings.timeout)
	err := b.client.UploadTraces(ctx, []*tracepb.ResourceSpans{msg})
	cancel()
	if err != nil {
		b.onError(fmt.Errorf("tracing: export of %d spans: %w", bt.spans, err))
	}
	b.mu.Lock()
	dropped := b.dropped
	b.dropped = 0
	bt.reset()
	b.free = append(b.free, bt)
	b.mu.Unlock()
	if dropped > 0 {
		b.onError(fmt.Errorf("tracing: %d spans dropped: more than %d waited for their export (OTEL_BSP_MAX_QUEUE_SIZE)", dropped, b.settings.maxQueue))
	}
}

// forceFlush exports every span ended before it, within ctx.
func (b *batcher) forceFlush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case b.flushes <- ack:
	case <-b.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tracing: flush: %w", ctx.Err())
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tracing: flush: %w", ctx.Err())
	}
}

// shutdown exports what is left within ctx (abandoning the export when ctx ends),
// stops the export goroutine and the client; spans ended after it are dropped.
func (b *batcher) shutdown(ctx context.Context) error {
	var err error
	b.stopped.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.stop)
		select {
		case <-b.done:
		case <-ctx.Done():
			b.cancel()
			<-b.done
			err = fmt.Errorf("tracing: shutdown: %w", ctx.Err())
		}
		b.cancel()
		if stopErr := b.client.Stop(ctx); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("tracing: OTLP client: %w", stopErr))
		}
	})
	return err
}
