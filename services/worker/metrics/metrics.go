// Package metrics declares the worker's Prometheus metrics. It is exported so that
// deployment tests can check dashboards and alerts against Names.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
	platform "github.com/streamgate/streamgate/pkg/platform/metrics"
	"github.com/streamgate/streamgate/services/worker/internal/deadletter"
)

// Metrics are the worker's collectors, registered in Registry.
type Metrics struct {
	Registry *platform.Registry

	RecordsReceived  *prometheus.CounterVec // topic
	RepliesPublished *prometheus.CounterVec // topic
	DeadLetters      *prometheus.CounterVec // reason
	PublishRetries   *prometheus.CounterVec // topic
	WritesInFlight   prometheus.Gauge

	// Per claimed partition {topic, partition}; the series of a partition are deleted
	// when the worker stops owning it.
	CommittedOffset     *prometheus.GaugeVec
	ConsumerLag         *prometheus.GaugeVec
	OldestUnfinishedAge *prometheus.GaugeVec
	PartitionStuck      *prometheus.GaugeVec

	Rebalances    prometheus.Counter
	SessionActive prometheus.Gauge

	// Transactions of DELIVERY=exactly-once; at 0 in at-least-once mode.
	Transactions *transactional.Metrics
}

// New returns the worker's metrics in a registry of their own.
func New(version string) (*Metrics, error) {
	reg, err := platform.NewRegistry("worker", version)
	if err != nil {
		return nil, err
	}
	partition := []string{"topic", "partition"}
	m := &Metrics{
		Registry: reg,
		RecordsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_records_received_total",
			Help: "Records taken from the in-topic (redeliveries included).",
		}, []string{"topic"}),
		RepliesPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_replies_published_total",
			Help: "Replies acknowledged by the broker.",
		}, []string{"topic"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_dead_letters_total",
			Help: "Malformed records whose dead letter the broker acknowledged, by reason.",
		}, []string{"reason"}),
		PublishRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_publish_retries_total",
			Help: "Failed writes of a reply or dead letter, each retried after a backoff.",
		}, []string{"topic"}),
		WritesInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamgate_worker_writes_in_flight",
			Help: "Replies and dead letters sent to the producer and not yet acknowledged or failed.",
		}),
		CommittedOffset: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamgate_worker_committed_offset",
			Help: "The next offset of the partition to commit: every record before it is finished (commits follow within a second).",
		}, partition),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamgate_worker_consumer_lag",
			Help: "Records of the partition not finished yet: high-water mark minus the committed offset.",
		}, partition),
		OldestUnfinishedAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamgate_worker_oldest_unfinished_record_age_seconds",
			Help: "How long the oldest record the worker holds unfinished has been held; 0 when it holds none.",
		}, partition),
		PartitionStuck: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamgate_worker_partition_stuck",
			Help: "1 while the oldest unfinished record is older than STUCK_PARTITION_THRESHOLD.",
		}, partition),
		Rebalances: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamgate_worker_rebalances_total",
			Help: "Consumer group sessions started, the first included. A cooperative rebalance that only moves some partitions keeps the session.",
		}),
		SessionActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamgate_worker_session_active",
			Help: "1 while the worker is in a consumer group session.",
		}),
		Transactions: transactional.NewMetrics(),
	}
	for _, reason := range deadletter.Reasons {
		m.DeadLetters.WithLabelValues(reason)
	}
	collectors := []prometheus.Collector{m.RecordsReceived, m.RepliesPublished, m.DeadLetters, m.PublishRetries, m.WritesInFlight,
		m.CommittedOffset, m.ConsumerLag, m.OldestUnfinishedAge, m.PartitionStuck, m.Rebalances, m.SessionActive}
	err = reg.RegisterAll(append(collectors, m.Transactions.Collectors()...)...)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Topics starts the per-topic counters at 0 for the topics the worker reads and
// writes, so rate() and alerts see them before the first record.
func (m *Metrics) Topics(in, out, dlq string) {
	m.RecordsReceived.WithLabelValues(in)
	m.RepliesPublished.WithLabelValues(out)
	m.PublishRetries.WithLabelValues(out)
	m.PublishRetries.WithLabelValues(dlq)
}

// Names returns the name of every metric family the worker serves on /metrics.
func Names() ([]string, error) {
	m, err := New("")
	if err != nil {
		return nil, err
	}
	return platform.Names(m.Registry), nil
}
