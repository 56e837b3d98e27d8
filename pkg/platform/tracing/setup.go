// Package tracing sets up OpenTelemetry tracing from the standard OTEL_* variables and
// carries W3C trace context (traceparent, tracestate, baggage) through Kafka record
// headers, so a trace follows a request from the gateway through the worker to its
// reply, and across Go and Python (FastStream) services alike.
//
// Tracing is off unless asked for. With it off no span is recorded or exported, but a
// trace context that arrives is still passed on unchanged, so a service that does not
// trace does not cut the traces of those around it.
package tracing

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
)

// The OTEL_* variables this package reads itself; the SDK and the OTLP exporters read
// the others (endpoint, headers, timeout, certificates, OTEL_SPAN_* limits, resource).
const (
	EnvSDKDisabled    = "OTEL_SDK_DISABLED"
	EnvTracesExporter = "OTEL_TRACES_EXPORTER"
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvSampler        = "OTEL_TRACES_SAMPLER"
	EnvSamplerArg     = "OTEL_TRACES_SAMPLER_ARG"

	EnvBSPScheduleDelay      = "OTEL_BSP_SCHEDULE_DELAY"
	EnvBSPExportTimeout      = "OTEL_BSP_EXPORT_TIMEOUT"
	EnvBSPMaxQueueSize       = "OTEL_BSP_MAX_QUEUE_SIZE"
	EnvBSPMaxExportBatchSize = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
)

// OTLP protocols (OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// scope names the instrumentation that makes every span of the services.
const scope = "github.com/streamgate/streamgate/pkg/platform/tracing"

// Tracing is a service's tracer provider and propagator. Use Disabled or Setup.
type Tracing struct {
	provider   trace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
	enabled    bool
}

// propagator is W3C trace context and baggage, as FastStream and the OTel SDKs of
// other languages write them.
func propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Disabled records nothing and exports nothing; it still passes a trace context that
// arrives on to what the service sends.
func Disabled() *Tracing {
	return newTracing(noop.NewTracerProvider(), nil, false)
}

func newTracing(provider trace.TracerProvider, shutdown func(context.Context) error, enabled bool) *Tracing {
	if shutdown == nil {
		shutdown = func(context.Context) error { return nil }
	}
	return &Tracing{
		provider:   provider,
		tracer:     provider.Tracer(scope),
		propagator: propagator(),
		shutdown:   shutdown,
		enabled:    enabled,
	}
}

// Options name the service the spans come from. Getenv reads the variables that
// decide whether tracing is on, over which protocol, how spans are sampled and
// batched (os.LookupEnv in production; the OTLP clients and the span limits read the
// process environment themselves). Log, if set, gets failed and dropped exports.
type Options struct {
	Service string
	Version string
	Getenv  func(string) (string, bool)
	Log     *zap.Logger
}

// Setup reads the OTEL_* variables and returns the tracing they ask for:
//
//   - OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none: off;
//   - OTEL_TRACES_EXPORTER=otlp: on;
//   - OTEL_TRACES_EXPORTER unset: on only if OTEL_EXPORTER_OTLP_ENDPOINT or
//     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set. (The SDK's own default, otlp to
//     localhost, would make every service that never asked for traces retry exports to
//     a collector that is not there.)
//
// On, spans go by OTLP over OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL, http/protobuf (the
// default) or grpc. A value this package does not know stops start-up with an error
// that names the variable.
func Setup(ctx context.Context, opts Options) (*Tracing, error) {
	on, protocol, err := settings(opts.Getenv)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	if !on {
		return Disabled(), nil
	}
	sampler, err := samplerFrom(opts.Getenv)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	batching, err := batchSettingsFrom(opts.Getenv)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	// Attributes first, then the environment (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES),
	// which wins.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(opts.Service), semconv.ServiceVersion(opts.Version)),
		resource.WithAttributes(instanceAttributes(opts.Getenv)...),
		resource.WithHost(),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	client := otlptracehttp.NewClient()
	if protocol == ProtocolGRPC {
		client = otlptracegrpc.NewClient()
	}
	if err := client.Start(ctx); err != nil { // a gRPC client dials here
		return nil, fmt.Errorf("tracing: OTLP %s exporter: %w", protocol, err)
	}
	log := opts.Log
	if log == nil {
		log = zap.NewNop()
	}
	batches := startBatcher(client, res, batching, func(err error) { log.Warn("tracing: export failed", zap.Error(err)) })
	r := newRecorder(sampler, randomIDs{}, batches)
	return newTracing(r, r.Shutdown, true), nil
}

var samplers = []string{
	"always_on", "always_off", "traceidratio",
	"parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
}

// settings decides from the environment whether tracing is on and over which protocol.
func settings(getenv func(string) (string, bool)) (on bool, protocol string, err error) {
	get := func(name string) (string, bool) { return trimmed(getenv, name) }
	if v, ok := get(EnvSDKDisabled); ok {
		disabled, perr := strconv.ParseBool(v)
		if perr != nil {
			return false, "", fmt.Errorf("%s=%q: must be true or false", EnvSDKDisabled, v)
		}
		if disabled {
			return false, "", nil
		}
	}
	exporter, set := get(EnvTracesExporter)
	switch {
	case !set:
		_, endpoint := get(EnvEndpoint)
		_, tracesEndpoint := get(EnvTracesEndpoint)
		on = endpoint || tracesEndpoint
	case exporter == "none":
		return false, "", nil
	case exporter == "otlp":
		on = true
	default:
		return false, "", fmt.Errorf("%s=%q: must be otlp or none", EnvTracesExporter, exporter)
	}
	if !on {
		return false, "", nil
	}
	protocol, name := ProtocolHTTP, EnvProtocol
	if v, ok := get(EnvProtocol); ok {
		protocol = v
	}
	if v, ok := get(EnvTracesProtocol); ok {
		protocol, name = v, EnvTracesProtocol
	}
	if protocol != ProtocolHTTP && protocol != ProtocolGRPC {
		return false, "", fmt.Errorf("%s=%q: must be %s or %s", name, protocol, ProtocolHTTP, ProtocolGRPC)
	}
	if _, err := samplerFrom(getenv); err != nil {
		return false, "", err
	}
	if _, err := batchSettingsFrom(getenv); err != nil {
		return false, "", err
	}
	return true, protocol, nil
}

// samplerFrom is the sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name
// (parentbased_always_on when unset), refusing what the SDK would only log and ignore.
func samplerFrom(getenv func(string) (string, bool)) (sdktrace.Sampler, error) {
	name, ok := trimmed(getenv, EnvSampler)
	if !ok {
		name = "parentbased_always_on"
	}
	ratio := 1.0
	if arg, ok := trimmed(getenv, EnvSamplerArg); ok && strings.HasSuffix(name, "traceidratio") {
		var err error
		if ratio, err = strconv.ParseFloat(arg, 64); err != nil || ratio < 0 || ratio > 1 {
			return nil, fmt.Errorf("%s=%q: must be a number from 0 to 1", EnvSamplerArg, arg)
		}
	}
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, fmt.Errorf("%s=%q: must be one of %s", EnvSampler, name, strings.Join(samplers, ", "))
}

// batchSettingsFrom reads OTEL_BSP_*: the delays in milliseconds, the sizes in spans.
func batchSettingsFrom(getenv func(string) (string, bool)) (batchSettings, error) {
	s := defaultBatchSettings
	positive := func(name string) (int, bool, error) {
		v, ok := trimmed(getenv, name)
		if !ok {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, false, fmt.Errorf("%s=%q: must be a whole number above 0", name, v)
		}
		return n, true, nil
	}
	for _, setting := range []struct {
		name string
		set  func(int)
	}{
		{EnvBSPScheduleDelay, func(n int) { s.delay = time.Duration(n) * time.Millisecond }},
		{EnvBSPExportTimeout, func(n int) { s.timeout = time.Duration(n) * time.Millisecond }},
		{EnvBSPMaxQueueSize, func(n int) { s.maxQueue = n }},
		{EnvBSPMaxExportBatchSize, func(n int) { s.batchSize = n }},
	} {
		n, ok, err := positive(setting.name)
		if err != nil {
			return batchSettings{}, err
		}
		if ok {
			setting.set(n)
		}
	}
	s.batchSize = min(s.batchSize, s.maxQueue) // as the SDK does
	return s, nil
}

func trimmed(getenv func(string) (string, bool), name string) (string, bool) {
	v, ok := getenv(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t.enabled }

// TracerProvider is the provider for instrumentation libraries such as otelgin.
func (t *Tracing) TracerProvider() trace.TracerProvider { return t.provider }

// Propagator reads and writes W3C traceparent, tracestate and baggage.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.propagator }

// Shutdown exports the spans still buffered, within ctx.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// WithProvider traces through provider, for callers (and tests) that build their own
// SDK pipeline; Shutdown shuts provider down.
func WithProvider(provider *sdktrace.TracerProvider) *Tracing {
	return newTracing(provider, provider.Shutdown, true)
}
