package metrics

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The names are a contract: the chart's alerts and dashboard query them.
func TestNamesAreTheContract(t *testing.T) {
	names, err := Names()
	if err != nil {
		t.Fatal(err)
	}
	own := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !strings.HasPrefix(n, "streamgate_") })
	want := []string{
		"streamgate_build_info",
		"streamgate_kafka_connected",
		"streamgate_kafka_transaction_duration_seconds",
		"streamgate_kafka_transactions_aborted_total",
		"streamgate_kafka_transactions_committed_total",
		"streamgate_worker_committed_offset",
		"streamgate_worker_consumer_lag",
		"streamgate_worker_dead_letters_total",
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

// Every dead-letter reason and the configured topics are series from the start.
func TestKnownLabelValuesStartAtZero(t *testing.T) {
	m, err := New("v")
	if err != nil {
		t.Fatal(err)
	}
	m.Topics("in", "out", "dlq")
	for metric, n := range map[string]int{
		"dead letters": testutil.CollectAndCount(m.DeadLetters),
		"received":     testutil.CollectAndCount(m.RecordsReceived),
		"replies":      testutil.CollectAndCount(m.RepliesPublished),
		"retries":      testutil.CollectAndCount(m.PublishRetries),
	} {
		want := map[string]int{"dead letters": 3, "received": 1, "replies": 1, "retries": 2}[metric]
		if n != want {
			t.Errorf("%s: %d series, want %d", metric, n, want)
		}
	}
}
