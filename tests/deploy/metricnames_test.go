package deploy

import "strings"

// exportedMetrics are the metric families each service registers (its
// metrics package; issue 7), besides the Go runtime's go_* and the process
// collector's process_*. The alerts and dashboards may use these only.
// Histograms are listed by family name; their series add _bucket, _sum and
// _count.
var exportedMetrics = map[string][]string{
	"gateway": {
		"streamgate_build_info",
		"streamgate_kafka_connected",
		"streamgate_http_requests_total",
		"streamgate_http_request_duration_seconds",
		"streamgate_gateway_publishes_total",
		"streamgate_gateway_publish_duration_seconds",
		"streamgate_gateway_publishes_in_flight",
	},
	"worker": {
		"streamgate_build_info",
		"streamgate_kafka_connected",
		"streamgate_worker_records_received_total",
		"streamgate_worker_replies_published_total",
		"streamgate_worker_dead_letters_total",
		"streamgate_worker_publish_retries_total",
		"streamgate_worker_writes_in_flight",
		"streamgate_worker_committed_offset",
		"streamgate_worker_consumer_lag",
		"streamgate_worker_oldest_unfinished_record_age_seconds",
		"streamgate_worker_partition_stuck",
		"streamgate_worker_rebalances_total",
		"streamgate_worker_session_active",
	},
}

// histograms are the families above whose series carry the histogram suffixes.
var histograms = []string{"streamgate_http_request_duration_seconds", "streamgate_gateway_publish_duration_seconds"}

// exported says whether a series name is one a service exports.
func exported(service, series string) bool {
	if strings.HasPrefix(series, "go_") || strings.HasPrefix(series, "process_") {
		return true
	}
	for _, name := range exportedMetrics[service] {
		if series == name {
			return true
		}
		for _, h := range histograms {
			if name == h && (series == h+"_bucket" || series == h+"_sum" || series == h+"_count") {
				return true
			}
		}
	}
	return false
}
