package router

import (
	"strconv"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/logging"
)

// partitionState publishes one claimed partition's committed offset, lag, oldest
// unfinished record age and stuck state, and logs when it turns stuck and when it
// recovers. It belongs to the claim's goroutine.
type partitionState struct {
	m         *Metrics
	log       *zap.Logger
	topic     string
	partition int32
	labels    []string
	threshold time.Duration

	committed, lag, age, stuck prometheus.Gauge

	position int64 // next offset to commit; -1 until known
	isStuck  bool
}

func newPartitionState(m *Metrics, claim sarama.ConsumerGroupClaim, threshold time.Duration, log *zap.Logger) *partitionState {
	labels := []string{claim.Topic(), strconv.FormatInt(int64(claim.Partition()), 10)}
	s := &partitionState{
		m: m, log: log, topic: claim.Topic(), partition: claim.Partition(), labels: labels, threshold: threshold,
		committed: m.CommittedOffset.WithLabelValues(labels...),
		lag:       m.ConsumerLag.WithLabelValues(labels...),
		age:       m.OldestUnfinishedAge.WithLabelValues(labels...),
		stuck:     m.PartitionStuck.WithLabelValues(labels...),
		position:  -1,
	}
	s.age.Set(0)
	s.stuck.Set(0)
	// Without a commit the group starts at the oldest record, whose offset the claim
	// reports as sarama.OffsetOldest; the first record tells it then.
	if offset := claim.InitialOffset(); offset >= 0 {
		s.marked(offset)
	}
	return s
}

// taken notes a record taken from the partition.
func (s *partitionState) taken(offset int64) {
	if s.position < 0 {
		s.marked(offset)
	}
}

// marked notes that every record before next is finished.
func (s *partitionState) marked(next int64) {
	s.position = next
	s.committed.Set(float64(next))
}

// oldestUnfinished is a partition's oldest unfinished record: its offset and when it
// was taken; ok is false when none is pending.
type oldestUnfinished struct {
	offset int64
	taken  time.Time
	ok     bool
}

// observe refreshes the lag from the high-water mark hwm and the age of the oldest
// unfinished record. lastErr is the latest failed write, to say why a partition is stuck.
func (s *partitionState) observe(now time.Time, hwm int64, oldest oldestUnfinished, lastErr error) {
	if s.position >= 0 {
		s.lag.Set(float64(max(0, hwm-s.position)))
	}
	var age time.Duration
	if oldest.ok {
		age = now.Sub(oldest.taken)
	}
	s.age.Set(age.Seconds())
	stuck := age > s.threshold
	if stuck == s.isStuck {
		return
	}
	s.isStuck = stuck
	fields := []zap.Field{
		logging.Topic(s.topic), zap.Int32("partition", s.partition), zap.Duration("threshold", s.threshold),
	}
	if stuck {
		s.stuck.Set(1)
		fields = append(fields, zap.Int64("offset", oldest.offset), zap.Duration("age", age))
		if lastErr != nil {
			fields = append(fields, zap.Error(lastErr))
		}
		s.log.Warn("partition stuck: its oldest unfinished record is older than the threshold", fields...)
		return
	}
	s.stuck.Set(0)
	s.log.Info("partition no longer stuck", fields...)
}

// release deletes the partition's series: the worker no longer owns it.
func (s *partitionState) release() {
	if s.isStuck {
		s.log.Info("stuck partition released", logging.Topic(s.topic), zap.Int32("partition", s.partition))
	}
	for _, g := range []*prometheus.GaugeVec{s.m.CommittedOffset, s.m.ConsumerLag, s.m.OldestUnfinishedAge, s.m.PartitionStuck} {
		g.DeleteLabelValues(s.labels...)
	}
}
