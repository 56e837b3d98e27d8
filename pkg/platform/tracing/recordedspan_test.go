package tracing

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
)

// A span used from several goroutines while one of them ends it: no race (-race), and
// it is exported once, with what was set before its End.
func TestSpanIsSafeForConcurrentUseAndEndsOnce(t *testing.T) {
	got := &capture{}
	r, errs := testRecorder(t, got, defaultBatchSettings)
	_, span := r.Tracer("test").Start(context.Background(), "shared")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				span.SetAttributes(attribute.Int("g", g), attribute.Int("i", i))
				span.AddEvent("step")
				span.RecordError(errors.New("boom"))
				span.SetStatus(codes.Error, "boom")
				_ = span.IsRecording()
				if g == 0 && i == 100 {
					span.End()
				}
			}
		})
	}
	wg.Wait()
	span.End()
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	counts := got.spanCounts()
	if len(counts) != 1 || counts[0] != 1 {
		t.Fatalf("requests of %v spans, want one span exported once", counts)
	}
	exported := got.got[0].GetResourceSpans()[0].GetScopeSpans()[0].GetSpans()[0]
	if n := len(exported.GetAttributes()); n != 2 {
		t.Errorf("%d attributes, want g and i, each set once however often", n)
	}
	if exported.GetStatus().GetMessage() != "boom" {
		t.Errorf("status %v, want the error", exported.GetStatus())
	}
	if e := errs.list(); len(e) > 0 {
		t.Errorf("reported %v", e)
	}
}
