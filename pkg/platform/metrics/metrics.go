// Package metrics builds the Prometheus registry a streamgate service exposes and
// serves it on a port of its own, so /metrics is never reachable through the public
// Service of the API.
//
// Every service gets its own registry, passed to whatever registers collectors: nothing
// here touches client_golang's default registerer.
package metrics

import (
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry is a service's Prometheus registry with the collectors every streamgate
// service has: the Go runtime, the process, streamgate_build_info and
// streamgate_kafka_connected.
type Registry struct {
	*prometheus.Registry
	// KafkaConnected is 1 while the service's Kafka client is connected and its last
	// check passed; each service decides what its check is.
	KafkaConnected prometheus.Gauge
}

// NewRegistry returns a registry for service, stamped with its version.
func NewRegistry(service, version string) (*Registry, error) {
	// streamgate_service, not service: under the Prometheus Operator a target's own
	// service label (the Service's name) would rename it exported_service.
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "streamgate_build_info",
		Help: "Always 1; the service and the version it runs.",
	}, []string{"streamgate_service", "version"})
	buildInfo.WithLabelValues(service, version).Set(1)
	r := &Registry{
		Registry: prometheus.NewRegistry(),
		KafkaConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamgate_kafka_connected",
			Help: "1 while the Kafka client is connected and its last check passed, else 0.",
		}),
	}
	err := r.RegisterAll(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		r.KafkaConnected,
	)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// RegisterAll registers every collector and reports every one that failed, such as a
// name registered twice.
func (r *Registry) RegisterAll(cs ...prometheus.Collector) error {
	var errs []error
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("metrics: register: %w", err)
	}
	return nil
}

// SetBool sets g to 1 when ok and to 0 otherwise.
func SetBool(g prometheus.Gauge, ok bool) {
	if ok {
		g.Set(1)
	} else {
		g.Set(0)
	}
}

// fqName finds the metric name in a Desc's description: client_golang has no accessor
// for it, and Gather alone would miss the vectors that have no series yet.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names returns the sorted names of the metric families c describes, series or not.
// A histogram family NAME is scraped as NAME_bucket, NAME_sum and NAME_count; a
// summary as NAME, NAME_sum and NAME_count.
func Names(c prometheus.Collector) []string {
	descs := make(chan *prometheus.Desc)
	go func() {
		c.Describe(descs)
		close(descs)
	}()
	var names []string
	for d := range descs {
		if m := fqName.FindStringSubmatch(d.String()); m != nil && !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return names
}
