package tracing

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap/zapcore"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestSettingsTurnTracingOnOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		vars     map[string]string
		on       bool
		protocol string
		err      string
	}{
		{name: "nothing set", vars: nil},
		{name: "endpoint set", vars: map[string]string{EnvEndpoint: "http://c:4318"}, on: true, protocol: ProtocolHTTP},
		{name: "traces endpoint set", vars: map[string]string{EnvTracesEndpoint: "http://c:4318/v1/traces"}, on: true, protocol: ProtocolHTTP},
		{name: "otlp", vars: map[string]string{EnvTracesExporter: "otlp"}, on: true, protocol: ProtocolHTTP},
		{name: "grpc", vars: map[string]string{EnvTracesExporter: "otlp", EnvProtocol: "grpc"}, on: true, protocol: ProtocolGRPC},
		{name: "traces protocol wins", vars: map[string]string{EnvTracesExporter: "otlp", EnvProtocol: "grpc", EnvTracesProtocol: "http/protobuf"}, on: true, protocol: ProtocolHTTP},
		{name: "none", vars: map[string]string{EnvTracesExporter: "none", EnvEndpoint: "http://c:4318"}},
		{name: "sdk disabled", vars: map[string]string{EnvSDKDisabled: "true", EnvTracesExporter: "otlp"}},
		{name: "empty exporter is unset", vars: map[string]string{EnvTracesExporter: ""}},
		{name: "unknown exporter", vars: map[string]string{EnvTracesExporter: "zipkin"}, err: `OTEL_TRACES_EXPORTER="zipkin"`},
		{name: "bad protocol", vars: map[string]string{EnvTracesExporter: "otlp", EnvProtocol: "http/json"}, err: `OTEL_EXPORTER_OTLP_PROTOCOL="http/json"`},
		{name: "bad disabled", vars: map[string]string{EnvSDKDisabled: "maybe"}, err: `OTEL_SDK_DISABLED="maybe"`},
		{name: "bad sampler", vars: map[string]string{EnvTracesExporter: "otlp", EnvSampler: "sometimes"}, err: `OTEL_TRACES_SAMPLER="sometimes"`},
		{name: "bad ratio", vars: map[string]string{EnvTracesExporter: "otlp", EnvSampler: "traceidratio", EnvSamplerArg: "2"}, err: `OTEL_TRACES_SAMPLER_ARG="2"`},
		{name: "ratio", vars: map[string]string{EnvTracesExporter: "otlp", EnvSampler: "parentbased_traceidratio", EnvSamplerArg: "0.25"}, on: true, protocol: ProtocolHTTP},
		{name: "batching", vars: map[string]string{EnvTracesExporter: "otlp", EnvBSPScheduleDelay: "200", EnvBSPMaxQueueSize: "4096"}, on: true, protocol: ProtocolHTTP},
		{name: "bad queue size", vars: map[string]string{EnvTracesExporter: "otlp", EnvBSPMaxQueueSize: "lots"}, err: `OTEL_BSP_MAX_QUEUE_SIZE="lots"`},
		{name: "zero delay", vars: map[string]string{EnvTracesExporter: "otlp", EnvBSPScheduleDelay: "0"}, err: `OTEL_BSP_SCHEDULE_DELAY="0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			on, protocol, err := settings(env(tc.vars))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to name %s", err, tc.err)
				}
				return
			}
			if err != nil || on != tc.on || protocol != tc.protocol {
				t.Fatalf("settings = %v %q %v, want %v %q", on, protocol, err, tc.on, tc.protocol)
			}
		})
	}
}

func TestSamplerAndBatchingFromTheEnvironment(t *testing.T) {
	sampler, err := samplerFrom(env(map[string]string{EnvSampler: "parentbased_traceidratio", EnvSamplerArg: "0.25"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.25)).Description(); sampler.Description() != want {
		t.Errorf("sampler %s, want %s", sampler.Description(), want)
	}
	if sampler, _ := samplerFrom(env(nil)); sampler.Description() != sdktrace.ParentBased(sdktrace.AlwaysSample()).Description() {
		t.Errorf("default sampler %s, want parentbased_always_on", sampler.Description())
	}
	got, err := batchSettingsFrom(env(map[string]string{EnvBSPScheduleDelay: "200", EnvBSPExportTimeout: "1000", EnvBSPMaxQueueSize: "100", EnvBSPMaxExportBatchSize: "512"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := (batchSettings{delay: 200 * time.Millisecond, timeout: time.Second, maxQueue: 100, batchSize: 100}); got != want {
		t.Errorf("batch settings %+v, want %+v (a batch no larger than the queue)", got, want)
	}
}

func TestSetupOffByDefaultAndOnWithEndpoint(t *testing.T) {
	ctx := context.Background()
	off, err := Setup(ctx, Options{Service: "s", Version: "v", Getenv: env(nil)})
	if err != nil || off.Enabled() {
		t.Fatalf("Setup with nothing set: enabled %v, %v", off != nil && off.Enabled(), err)
	}
	on, err := Setup(ctx, Options{Service: "s", Version: "v", Getenv: env(map[string]string{EnvEndpoint: "http://127.0.0.1:1"})})
	if err != nil || !on.Enabled() {
		t.Fatalf("Setup with an endpoint: %v", err)
	}
	_, span := on.StartSend(ctx, "topic")
	if !span.SpanContext().IsSampled() {
		t.Error("span not sampled with the default sampler")
	}
	span.End()
	shutdownCtx, cancel := context.WithCancel(ctx)
	cancel() // nothing listens at the endpoint: do not wait for the export
	_ = on.Shutdown(shutdownCtx)
}

// The context a producer writes is the one a consumer reads, and writing replaces an
// earlier trace context rather than adding a second one.
func TestCarriersRoundTrip(t *testing.T) {
	off := Disabled()
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), parent)
	msg := &sarama.ProducerMessage{Topic: "t", Headers: []sarama.RecordHeader{
		{Key: []byte("traceparent"), Value: []byte("00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01")},
		{Key: []byte("correlation_id"), Value: []byte("c")},
	}}
	off.Inject(ctx, msg)
	if n := len(ProducerCarrier{Msg: msg}.Keys()); n != 2 {
		t.Fatalf("headers %v, want correlation_id and one traceparent", ProducerCarrier{Msg: msg}.Keys())
	}
	rec := &sarama.ConsumerMessage{Topic: "t"}
	for i := range msg.Headers {
		rec.Headers = append(rec.Headers, &msg.Headers[i])
	}
	got, span := off.StartProcess(context.Background(), rec, "g")
	span.End()
	if sc := trace.SpanContextFromContext(got); sc.TraceID() != parent.TraceID() || sc.SpanID() != parent.SpanID() {
		t.Fatalf("consumer read %v, want %v passed through", sc, parent)
	}
	enc := zapcore.NewMapObjectEncoder()
	LogFields(got).AddTo(enc)
	if enc.Fields["trace_id"] != parent.TraceID().String() || enc.Fields["span_id"] != parent.SpanID().String() {
		t.Errorf("LogFields = %v, want the span context's IDs", enc.Fields)
	}
	enc = zapcore.NewMapObjectEncoder()
	LogFields(context.Background()).AddTo(enc)
	if len(enc.Fields) != 0 {
		t.Errorf("LogFields without a span = %v, want nothing", enc.Fields)
	}
}
