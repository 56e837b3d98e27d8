package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/gin-gonic/gin"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

// recordPublisher does what gatewaykit.Producer does short of the network: build the
// record with its headers and write the trace context into them.
type recordPublisher struct {
	tracing *tracing.Tracing
	sink    *sarama.ProducerMessage
}

func (p *recordPublisher) Send(ctx context.Context, rec gatewaykit.Record) error {
	record := &sarama.ProducerMessage{
		Topic: rec.Topic, Key: sarama.StringEncoder(rec.Key),
		Value: sarama.ByteEncoder(rec.Value), Headers: kafka.Headers(rec.CorrelationID),
	}
	p.tracing.Inject(ctx, record)
	p.sink = record
	return nil
}

// BenchmarkGatewayPing measures the gateway's GET /v1/ping handler path in process
// (middleware, handler, record building, JSON access log to io.Discard; no broker):
//
//   - off: no metrics, tracing off, the baseline;
//
//   - metrics: Prometheus HTTP and publish metrics, tracing off;
//
//   - metrics+tracing-unsampled: both, with tracing on (the SDK, otelgin, producer spans,
//     traceparent in the record) and a sampler that records nothing;
//
//   - metrics+tracing-sampled: everything recorded, into an in-memory span recorder.
//
//     go test -run '^$' -bench GatewayPing ./services/gateway/internal/api/
func BenchmarkGatewayPing(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	unsampled := tracing.WithProvider(sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())),
		sdktrace.WithBatcher(tracetest.NewNoopExporter())))
	sampled := tracing.WithProvider(sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(tracetest.NewNoopExporter())))
	for _, variant := range []struct {
		name    string
		metrics bool
		tracing *tracing.Tracing
	}{
		{"off", false, tracing.Disabled()},
		{"metrics", true, tracing.Disabled()},
		{"metrics+tracing-unsampled", true, unsampled},
		{"metrics+tracing-sampled", true, sampled},
	} {
		b.Run(variant.name, func(b *testing.B) {
			log, err := logging.New(logging.Options{Level: "info", Format: logging.FormatJSON, Service: "gateway", Version: "bench", Output: io.Discard})
			if err != nil {
				b.Fatal(err)
			}
			recorder := &recordPublisher{tracing: variant.tracing}
			var pub gatewaykit.Sender = recorder
			var m *metrics.Metrics
			if variant.metrics {
				if m, err = metrics.New("bench"); err != nil {
					b.Fatal(err)
				}
				pub = gatewaykit.Observe(recorder, m.Publish(), variant.tracing)
			}
			router := sampleRouter(b, Deps{Logger: log.WithOptions(zap.IncreaseLevel(zapcore.InfoLevel)), Metrics: m, Tracing: variant.tracing},
				Sample{Version: "bench", Now: time.Now}, gatewaykit.NewKit(pub, nil))
			servePings(b, router)
		})
	}
}

// BenchmarkGatewayPingOTLP is BenchmarkGatewayPing (metrics on) with tracing set up as
// in production (tracing.Setup from OTEL_* variables) exporting by OTLP/HTTP to a
// receiver on loopback that reads and drops each export: sampled at 100 %, 10 %
// (parentbased_traceidratio) and off. Besides ns/op (the handler's time) it reports
// cpu-µs/op: the process's CPU per request, the exports' marshalling and sending in the
// batch processor's goroutine included (they end before the figure is taken), and the
// receiver's reading (a few µs per batch of up to 512 spans).
//
//	go test -run '^$' -bench GatewayPingOTLP -benchtime 20000x ./services/gateway/internal/api/
func BenchmarkGatewayPingOTLP(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer receiver.Close()
	for _, variant := range []struct {
		name string
		env  map[string]string
	}{
		{"sampled-100%", map[string]string{tracing.EnvEndpoint: receiver.URL, tracing.EnvSampler: "parentbased_always_on"}},
		{"sampled-10%", map[string]string{tracing.EnvEndpoint: receiver.URL, tracing.EnvSampler: "parentbased_traceidratio", tracing.EnvSamplerArg: "0.1"}},
		{"off", map[string]string{tracing.EnvTracesExporter: "none"}},
	} {
		b.Run(variant.name, func(b *testing.B) {
			for k, v := range variant.env {
				b.Setenv(k, v)
			}
			tr, err := tracing.Setup(context.Background(), tracing.Options{Service: "gateway", Version: "bench", Getenv: os.LookupEnv})
			if err != nil {
				b.Fatal(err)
			}
			log, err := logging.New(logging.Options{Level: "info", Format: logging.FormatJSON, Service: "gateway", Version: "bench", Output: io.Discard})
			if err != nil {
				b.Fatal(err)
			}
			m, err := metrics.New("bench")
			if err != nil {
				b.Fatal(err)
			}
			pub := gatewaykit.Observe(&recordPublisher{tracing: tr}, m.Publish(), tr)
			router := sampleRouter(b, Deps{Logger: log, Metrics: m, Tracing: tr}, Sample{Version: "bench", Now: time.Now}, gatewaykit.NewKit(pub, nil))
			cpuBefore := processCPU(b)
			servePings(b, router)
			b.StopTimer()
			if err := tr.Shutdown(context.Background()); err != nil { // the last exports
				b.Fatal(err)
			}
			b.ReportMetric(float64((processCPU(b)-cpuBefore).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// servePings answers GET /v1/ping b.N times, the benchmark's timed loop.
func servePings(b *testing.B, router http.Handler) {
	req := httptest.NewRequest(http.MethodGet, "/v1/ping", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
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
