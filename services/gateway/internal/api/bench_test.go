package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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
	"github.com/streamgate/streamgate/pkg/platform/tracing/tracingbench"
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
// in production, exporting by OTLP/HTTP to a receiver on loopback that drops each
// export: sampled at 100 %, 10 % (parentbased_traceidratio) and off. Besides ns/op (the
// handler's time) it reports cpu-µs/op, the process's CPU per request, exports
// included (tracingbench.Run).
//
//	go test -run '^$' -bench GatewayPingOTLP -benchtime 20000x ./services/gateway/internal/api/
func BenchmarkGatewayPingOTLP(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	tracingbench.Run(b, "gateway", func(b *testing.B, tr *tracing.Tracing, loop func(op func())) {
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
		loop(ping(b, router))
	})
}

// servePings answers GET /v1/ping b.N times, the benchmark's timed loop.
func servePings(b *testing.B, router http.Handler) {
	op := ping(b, router)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		op()
	}
}

// ping answers one GET /v1/ping.
func ping(b *testing.B, router http.Handler) func() {
	req := httptest.NewRequest(http.MethodGet, "/v1/ping", nil)
	return func() {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
