package transactional

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsCountOutcomes(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewRegistry()
	for _, c := range m.Collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	m.Committed(3 * time.Millisecond)
	m.Committed(40 * time.Millisecond)
	m.Aborted(2 * time.Second)

	if got := testutil.ToFloat64(m.committed); got != 2 {
		t.Errorf("committed = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.aborted); got != 1 {
		t.Errorf("aborted = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.duration); n != 2 {
		t.Errorf("%d duration series, want 2 (committed, aborted)", n)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "streamgate_kafka_transaction_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			want := map[string]uint64{"committed": 2, "aborted": 1}[s.GetLabel()[0].GetValue()]
			if got := s.GetHistogram().GetSampleCount(); got != want {
				t.Errorf("%s: %d durations observed, want %d", s.GetLabel()[0].GetValue(), got, want)
			}
		}
	}
}
