package router

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
	platform "github.com/streamgate/streamgate/pkg/platform/metrics"
	"github.com/streamgate/streamgate/pkg/router/internal/deadletter"
)

// Metrics are the router's Prometheus collectors, registered in Registry. The names
// are a contract (docs/observability.md, the charts' alerts and dashboards).
type Metrics struct {
	Registry *platform.Registry

	RecordsReceived  *prometheus.CounterVec // topic, route
	RepliesPublished *prometheus.CounterVec // topic (where the reply was written, reply_to included), route
	DeadLetters      *prometheus.CounterVec // reason, route
	PublishRetries   *prometheus.CounterVec // topic
	WritesInFlight   prometheus.Gauge

	// Per handler call (the Metrics middleware).
	HandlerCalls    *prometheus.CounterVec   // route, outcome
	HandlerDuration *prometheus.HistogramVec // route
	HandlerRetries  *prometheus.CounterVec   // route

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

// Outcomes of a handler call, the outcome label of HandlerCalls.
const (
	OutcomeOK        = "ok"
	OutcomeRetryable = "retryable_error"
	OutcomePermanent = "permanent_error"
	OutcomeCanceled  = "canceled"
)

// outcomes lists the outcome labels by the indexes CountCalls counts with.
var outcomes = [...]string{outcomeOK: OutcomeOK, outcomeRetryable: OutcomeRetryable, outcomePermanent: OutcomePermanent, outcomeCanceled: OutcomeCanceled}

const (
	outcomeOK = iota
	outcomeRetryable
	outcomePermanent
	outcomeCanceled
)

// NewMetrics returns the router's metrics in a registry of their own ("worker" in
// streamgate_build_info).
func NewMetrics(service, version string) (*Metrics, error) {
	reg, err := platform.NewRegistry(service, version)
	if err != nil {
		return nil, err
	}
	partition := []string{"topic", "partition"}
	m := &Metrics{
		Registry: reg,
		RecordsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_records_received_total",
			Help: "Records taken from a routed topic (redeliveries included).",
		}, []string{"topic", "route"}),
		RepliesPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_replies_published_total",
			Help: "Replies acknowledged by the broker, by the topic they were written to.",
		}, []string{"topic", "route"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_dead_letters_total",
			Help: "Records whose dead letter the broker acknowledged, by reason.",
		}, []string{"reason", "route"}),
		PublishRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_publish_retries_total",
			Help: "Failed writes of a reply or dead letter, each retried after a backoff.",
		}, []string{"topic"}),
		WritesInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamgate_worker_writes_in_flight",
			Help: "Replies and dead letters sent to the producer and not yet acknowledged or failed.",
		}),
		HandlerCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_handler_calls_total",
			Help: "Handler calls (each attempt), by outcome.",
		}, []string{"route", "outcome"}),
		HandlerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "streamgate_worker_handler_duration_seconds",
			Help:    "How long a handler call (one attempt) took.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		HandlerRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamgate_worker_handler_retries_total",
			Help: "Handler calls retried after a retryable error.",
		}, []string{"route"}),
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
	collectors := []prometheus.Collector{m.RecordsReceived, m.RepliesPublished, m.DeadLetters, m.PublishRetries, m.WritesInFlight,
		m.HandlerCalls, m.HandlerDuration, m.HandlerRetries,
		m.CommittedOffset, m.ConsumerLag, m.OldestUnfinishedAge, m.PartitionStuck, m.Rebalances, m.SessionActive}
	err = reg.RegisterAll(append(collectors, m.Transactions.Collectors()...)...)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// route starts the route's series at 0, so rate() and alerts see them before the
// first record.
func (m *Metrics) route(rt *route) {
	m.RecordsReceived.WithLabelValues(rt.topic, rt.name)
	if rt.replyTopic != "" {
		m.RepliesPublished.WithLabelValues(rt.replyTopic, rt.name)
		m.PublishRetries.WithLabelValues(rt.replyTopic)
	}
	m.PublishRetries.WithLabelValues(rt.dlqTopic)
	for _, reason := range deadletter.Reasons {
		m.DeadLetters.WithLabelValues(reason, rt.name)
	}
	for _, outcome := range outcomes {
		m.HandlerCalls.WithLabelValues(rt.name, outcome)
	}
	m.HandlerRetries.WithLabelValues(rt.name)
}

// MetricNames returns the name of every metric family a router serves on /metrics.
func MetricNames() ([]string, error) {
	m, err := NewMetrics("worker", "")
	if err != nil {
		return nil, err
	}
	return platform.Names(m.Registry), nil
}
