package router

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The names are a contract: the chart's alerts and dashboard query them.
func TestMetricNamesAreTheContract(t *testing.T) {
	names, err := MetricNames()
	if err != nil {
		t.Fatal(err)
	}
	own := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !strings.HasPrefix(n, "streamgate_") })
	want := []string{
		"streamgate_build_info",
		"streamgate_kafka_connected",
		"streamgate_worker_committed_offset",
		"streamgate_worker_consumer_lag",
		"streamgate_worker_dead_letters_total",
		"streamgate_worker_handler_calls_total",
		"streamgate_worker_handler_duration_seconds",
		"streamgate_worker_handler_retries_total",
		"streamgate_worker_oldest_unfinished_record_age_seconds",
		"streamgate_worker_partition_stuck",
		"streamgate_worker_publish_retries_total",
		"streamgate_worker_rebalances_total",
		"streamgate_worker_records_received_total",
		"streamgate_worker_replies_published_total",
		"streamgate_worker_session_active",
		"streamgate_worker_writes_in_flight",
	}
	if !slices.Equal(own, want) {
		t.Errorf("streamgate metrics = %v\nwant %v", own, want)
	}
}

// Every dead-letter reason, outcome and the route's topics are series from the start.
func TestRouteSeriesStartAtZero(t *testing.T) {
	m, err := NewMetrics("worker", "v")
	if err != nil {
		t.Fatal(err)
	}
	r := New(Config{Metrics: m})
	if err := Register(r, Route[string, string]{Topic: "in", ReplyTopic: "out", DeadLetterTopic: "dlq", Handler: echo}); err != nil {
		t.Fatal(err)
	}
	for metric, got := range map[string]int{
		"dead letters": testutil.CollectAndCount(m.DeadLetters),
		"received":     testutil.CollectAndCount(m.RecordsReceived),
		"replies":      testutil.CollectAndCount(m.RepliesPublished),
		"retries":      testutil.CollectAndCount(m.PublishRetries),
		"calls":        testutil.CollectAndCount(m.HandlerCalls),
	} {
		want := map[string]int{"dead letters": 8, "received": 1, "replies": 1, "retries": 2, "calls": 4}[metric]
		if got != want {
			t.Errorf("%s: %d series, want %d", metric, got, want)
		}
	}
}
