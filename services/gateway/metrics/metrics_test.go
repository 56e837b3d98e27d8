package metrics

import (
	"slices"
	"strings"
	"testing"
)

// The names are a contract: the chart's alerts and dashboard query them.
func TestNamesAreTheContract(t *testing.T) {
	names, err := Names()
	if err != nil {
		t.Fatal(err)
	}
	var own []string
	for _, n := range names {
		if strings.HasPrefix(n, "streamgate_") {
			own = append(own, n)
		}
	}
	want := []string{
		"streamgate_build_info",
		"streamgate_gateway_publish_duration_seconds",
		"streamgate_gateway_publishes_in_flight",
		"streamgate_gateway_publishes_total",
		"streamgate_http_request_duration_seconds",
		"streamgate_http_requests_total",
		"streamgate_kafka_connected",
	}
	if !slices.Equal(own, want) {
		t.Errorf("streamgate metrics = %v\nwant %v", own, want)
	}
	for _, runtime := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !slices.Contains(names, runtime) {
			t.Errorf("Names lacks %s", runtime)
		}
	}
}
