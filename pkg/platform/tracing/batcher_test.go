package tracing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// testRecorder records every span, batched by settings, into client; errors collects
// what the batcher reports.
func testRecorder(t *testing.T, client otlptrace.Client, settings batchSettings) (*recorder, *reports) {
	t.Helper()
	errs := &reports{}
	r := newRecorder(sdktrace.AlwaysSample(), randomIDs{}, startBatcher(client, resource.Empty(), settings, errs.add))
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r, errs
}

type reports struct {
	mu   sync.Mutex
	errs []error
}

func (r *reports) add(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *reports) list() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

func endSpans(r *recorder, n int) {
	tracer := r.Tracer("test")
	for range n {
		_, span := tracer.Start(context.Background(), "span")
		span.End()
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5 s for %s", what)
		}
	}
}

func TestBatcherExportsFullBatchesAtOnceAndTheRestAfterTheDelay(t *testing.T) {
	got := &capture{}
	r, errs := testRecorder(t, got, batchSettings{delay: 300 * time.Millisecond, timeout: time.Second, maxQueue: 12, batchSize: 3})
	start := time.Now()
	endSpans(r, 7)
	waitFor(t, "two full batches", func() bool { return len(got.spanCounts()) >= 2 })
	if since := time.Since(start); since > 250*time.Millisecond {
		t.Errorf("full batches exported after %v: they should not wait for the delay", since)
	}
	waitFor(t, "the last span, after the delay", func() bool { return len(got.spanCounts()) == 3 })
	if counts := got.spanCounts(); !slices.Equal(counts, []int{3, 3, 1}) {
		t.Errorf("requests of %v spans, want [3 3 1]", counts)
	}
	if e := errs.list(); len(e) > 0 {
		t.Errorf("reported %v", e)
	}
}

// gate is an OTLP client whose exports wait until it opens, or their context ends.
type gate struct {
	capture
	open chan struct{}
}

func (g *gate) UploadTraces(ctx context.Context, rs []*tracepb.ResourceSpans) error {
	select {
	case <-g.open:
		return g.capture.UploadTraces(ctx, rs)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestBatcherDropsWhatTheQueueCannotHoldAndSaysSo(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	r, errs := testRecorder(t, g, batchSettings{delay: time.Hour, timeout: 10 * time.Second, maxQueue: 4, batchSize: 2})
	endSpans(r, 40) // one batch exporting, one queued, one being built: the rest is dropped
	close(g.open)
	if err := r.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exported := 0
	for _, n := range g.spanCounts() {
		exported += n
	}
	dropped := 0
	for _, err := range errs.list() {
		var n int
		if _, scanErr := fmt.Sscanf(err.Error(), "tracing: %d spans dropped", &n); scanErr != nil || !strings.Contains(err.Error(), EnvBSPMaxQueueSize) {
			t.Fatalf("unexpected report %q", err)
		}
		dropped += n
	}
	if dropped == 0 || exported+dropped != 40 {
		t.Errorf("%d spans exported and %d reported dropped, want 40 in all and some dropped", exported, dropped)
	}
	if exported > 6 {
		t.Errorf("%d spans exported: the queue holds 4 and one export of 2 was running", exported)
	}
}

func TestShutdownExportsTheRestThenNothing(t *testing.T) {
	got := &capture{}
	r, errs := testRecorder(t, got, defaultBatchSettings)
	endSpans(r, 5)
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	endSpans(r, 5)
	if err := r.ForceFlush(context.Background()); err != nil {
		t.Errorf("ForceFlush after Shutdown: %v", err)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if counts := got.spanCounts(); !slices.Equal(counts, []int{5}) {
		t.Errorf("requests of %v spans, want the 5 ended before Shutdown", counts)
	}
	if e := errs.list(); len(e) > 0 {
		t.Errorf("reported %v", e)
	}
}

func TestShutdownGivesUpAnExportWhenItsContextEnds(t *testing.T) {
	g := &gate{open: make(chan struct{})} // never opens
	r, errs := testRecorder(t, g, defaultBatchSettings)
	endSpans(r, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want the deadline", err)
	}
	if since := time.Since(start); since > 2*time.Second {
		t.Errorf("Shutdown took %v: it should give up with its context", since)
	}
	select {
	case <-r.batches.done:
	default:
		t.Error("the export goroutine still runs after Shutdown returned")
	}
	if e := errs.list(); len(e) != 1 || !strings.Contains(e[0].Error(), "export of 3 spans") {
		t.Errorf("reported %v, want the abandoned export of 3 spans", e)
	}
}

func TestSpansEndedConcurrentlyAreAllExported(t *testing.T) {
	got := &capture{}
	r, errs := testRecorder(t, got, batchSettings{delay: time.Hour, timeout: 10 * time.Second, maxQueue: 1 << 14, batchSize: 64})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { endSpans(r, 500) })
	}
	wg.Wait()
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	exported := 0
	for _, n := range got.spanCounts() {
		exported += n
	}
	if exported != 2000 {
		t.Errorf("%d spans exported, want 2000", exported)
	}
	if e := errs.list(); len(e) > 0 {
		t.Errorf("reported %v", e)
	}
}
