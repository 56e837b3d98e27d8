package transactional

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is the Observer a service registers: how many transactions committed and
// aborted, and how long each took (begin to commit or abort, sends included).
type Metrics struct {
	committed, aborted prometheus.Counter
	duration           *prometheus.HistogramVec // outcome
}

var _ Observer = (*Metrics)(nil)

// NewMetrics returns the collectors; register them with Collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		committed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamgate_kafka_transactions_committed_total",
			Help: "Kafka transactions committed (DELIVERY=exactly-once): outputs and offsets of a batch of records.",
		}),
		aborted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamgate_kafka_transactions_aborted_total",
			Help: "Kafka transactions aborted; their records are consumed again from the last committed offset.",
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "streamgate_kafka_transaction_duration_seconds",
			Help: "Time from a transaction's begin to its commit or abort, by outcome.",
			// A commit is two to four round trips; seconds mean a struggling broker.
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"outcome"}),
	}
	// Series at 0 from the start, so rate() and the abort alert see them at once.
	m.duration.WithLabelValues("committed")
	m.duration.WithLabelValues("aborted")
	return m
}

// Collectors are m's collectors, for a registry.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.committed, m.aborted, m.duration}
}

// Committed counts one committed transaction that took d.
func (m *Metrics) Committed(d time.Duration) {
	m.committed.Inc()
	m.duration.WithLabelValues("committed").Observe(d.Seconds())
}

// Aborted counts one aborted transaction that took d.
func (m *Metrics) Aborted(d time.Duration) {
	m.aborted.Inc()
	m.duration.WithLabelValues("aborted").Observe(d.Seconds())
}
