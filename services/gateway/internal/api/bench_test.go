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

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/internal/publisher"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

// recordPublisher does what publisher.Kafka does short of the network: encode the
// request, build the record with its headers and write the trace context into them.
type recordPublisher struct {
	tracing *tracing.Tracing
	sink    *sarama.ProducerMessage
}

func (p *recordPublisher) Publish(ctx context.Context, msg messages.SampleReqMsg) error {
	payload, err := messages.EncodeRequest(msg)
	if err != nil {
		return err
	}
	record := &sarama.ProducerMessage{
		Topic: "in-topic", Key: sarama.StringEncoder(msg.CorrelationID),
		Value: sarama.ByteEncoder(payload), Headers: kafka.Headers(msg.CorrelationID),
	}
	p.tracing.Inject(ctx, record)
	p.sink = record
	return nil
}

// Request is Publish with a reply topic, which the ping route never asks for.
func (p *recordPublisher) Request(ctx context.Context, msg messages.SampleReqMsg, _, _ string) error {
	return p.Publish(ctx, msg)
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
			var pub Publisher = recorder
			var m *metrics.Metrics
			if variant.metrics {
				if m, err = metrics.New("bench"); err != nil {
					b.Fatal(err)
				}
				pub = publisher.Observe(recorder, "in-topic", m, variant.tracing)
			}
			router := NewRouter(Deps{
				Logger: log.WithOptions(zap.IncreaseLevel(zapcore.InfoLevel)), Publisher: pub, Readiness: nil,
				Version: "bench", Topic: "in-topic", Now: time.Now, Metrics: m, Tracing: variant.tracing,
			})
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
		})
	}
}
