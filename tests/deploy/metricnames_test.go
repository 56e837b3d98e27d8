package deploy

import (
	"slices"
	"testing"

	"github.com/streamgate/streamgate/pkg/router"
	gatewaymetrics "github.com/streamgate/streamgate/services/gateway/metrics"
)

// exportedMetrics returns the metric families a service registers (Go
// runtime and process collectors included), straight from its metrics
// package, so the alerts and dashboards cannot drift from the code.
func exportedMetrics(t *testing.T, service string) []string {
	t.Helper()
	names := map[string]func() ([]string, error){
		"gateway": gatewaymetrics.Names,
		"worker":  router.MetricNames,
	}[service]
	got, err := names()
	if err != nil {
		t.Fatalf("%s metrics: %v", service, err)
	}
	for _, want := range []string{"streamgate_build_info", "streamgate_kafka_connected", "go_goroutines", "process_cpu_seconds_total"} {
		if !slices.Contains(got, want) {
			t.Fatalf("the %s does not export %s: %v", service, want, got)
		}
	}
	return got
}

// exported says whether a series name belongs to one of the families; a
// histogram's series add _bucket, _sum and _count to its family name.
func exported(families []string, series string) bool {
	for _, f := range families {
		if series == f || series == f+"_bucket" || series == f+"_sum" || series == f+"_count" {
			return true
		}
	}
	return false
}
