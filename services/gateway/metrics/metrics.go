// Package metrics declares the gateway's Prometheus metrics. It is exported so that
// deployment tests can check dashboards and alerts against Names.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	platform "github.com/streamgate/streamgate/pkg/platform/metrics"
	"github.com/streamgate/streamgate/services/gateway/internal/grouplag"
)

// Publish outcomes, the values of streamgate_gateway_publishes_total{outcome}.
const (
	OutcomeSuccess = gatewaykit.OutcomeSuccess
	OutcomeError   = gatewaykit.OutcomeError
)

// Metrics are the gateway's collectors, registered in Registry.
type Metrics struct {
	Registry *platform.Registry

	HTTPRequests        *prometheus.CounterVec   // route, method, code
	HTTPRequestDuration *prometheus.HistogramVec // route, method
	Publishes           *prometheus.CounterVec   // outcome
	PublishDuration     prometheus.Histogram
	PublishesInFlight   prometheus.Gauge
}

// New returns the gateway's metrics in a registry of their own.
func New(version string) (*Metrics, error) {
	reg, err := platform.NewRegistry("gateway", version)
	if err != nil {
		return nil, err
	}
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		HTTPRequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "streamgate_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by route template and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		Publishes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_gateway_publishes_total",
			Help: "Records published (requests to the workers), by outcome (success: acknowledged by the broker).",
		}, []string{"outcome"}),
		PublishDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamgate_gateway_publish_duration_seconds",
			Help:    "Time from handing a request to the producer to the broker's acknowledgement or error.",
			Buckets: prometheus.DefBuckets,
		}),
		PublishesInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamgate_gateway_publishes_in_flight",
			Help: "Publishes waiting for the broker's answer.",
		}),
	}
	// Known label values start at 0, so rate() and alerts see them before the first event.
	for _, outcome := range []string{OutcomeSuccess, OutcomeError} {
		m.Publishes.WithLabelValues(outcome)
	}
	if err := reg.RegisterAll(m.HTTPRequests, m.HTTPRequestDuration, m.Publishes, m.PublishDuration, m.PublishesInFlight); err != nil {
		return nil, err
	}
	return m, nil
}

// Publish returns the collectors gatewaykit.Observe updates.
func (m *Metrics) Publish() gatewaykit.PublishMetrics {
	return gatewaykit.PublishMetrics{Publishes: m.Publishes, Duration: m.PublishDuration, InFlight: m.PublishesInFlight}
}

// Names returns the name of every metric family the gateway serves on /metrics.
func Names() ([]string, error) {
	m, err := New("")
	if err != nil {
		return nil, err
	}
	// The worker group's lag, which the app registers when Kafka is enabled.
	return append(platform.Names(m.Registry), grouplag.LagMetric, grouplag.UpMetric), nil
}
