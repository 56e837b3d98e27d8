// Package tracingbench measures what tracing costs a service with the OTLP exporter
// on, for the benchmarks of both services: each variant sets tracing up as in
// production (tracing.Setup from OTEL_* variables), exporting by OTLP/HTTP to a
// receiver on loopback that reads and drops every export.
package tracingbench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// Run runs run under each variant, sampled 100 % (parentbased_always_on), 10 %
// (parentbased_traceidratio) and off, as sub-benchmarks. run builds what it needs with
// tr, then calls loop, which times b.N calls of op. Besides ns/op (op's time) each
// reports cpu-µs/op: the process's CPU per op, the exports' marshalling and sending in
// the batch processor's goroutine included (they end before the figure is taken), and
// the receiver's reading (a few µs per batch of up to 512 spans).
func Run(b *testing.B, service string, run func(b *testing.B, tr *tracing.Tracing, loop func(op func()))) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer receiver.Close()
	// A loop that only makes spans outruns their export on two cores: the queue holds
	// every span of a run (a million), so none is dropped and all are paid for.
	const queue = "1048576"
	for _, variant := range []struct {
		name string
		env  map[string]string
	}{
		{"sampled-100%", map[string]string{tracing.EnvEndpoint: receiver.URL, tracing.EnvBSPMaxQueueSize: queue, tracing.EnvSampler: "parentbased_always_on"}},
		{"sampled-10%", map[string]string{tracing.EnvEndpoint: receiver.URL, tracing.EnvBSPMaxQueueSize: queue, tracing.EnvSampler: "parentbased_traceidratio", tracing.EnvSamplerArg: "0.1"}},
		{"off", map[string]string{tracing.EnvTracesExporter: "none"}},
	} {
		b.Run(variant.name, func(b *testing.B) {
			for k, v := range variant.env {
				b.Setenv(k, v)
			}
			// A failed export or a dropped span would make tracing look cheaper than it is.
			core, warnings := observer.New(zap.WarnLevel)
			tr, err := tracing.Setup(context.Background(), tracing.Options{Service: service, Version: "bench", Getenv: os.LookupEnv, Log: zap.New(core)})
			if err != nil {
				b.Fatal(err)
			}
			run(b, tr, func(op func()) {
				cpuBefore := processCPU(b)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					op()
				}
				b.StopTimer()
				if err := tr.Shutdown(context.Background()); err != nil { // the last exports
					b.Fatal(err)
				}
				b.ReportMetric(float64((processCPU(b)-cpuBefore).Microseconds())/float64(b.N), "cpu-µs/op")
				for _, w := range warnings.All() {
					b.Fatalf("%s: %v", w.Message, w.ContextMap())
				}
			})
		})
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
