package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, tt := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(5), 99, 5 * time.Millisecond},
		{ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{ms(4, 1, 3, 2), 100, 4 * time.Millisecond},
		{append(ms(1, 2, 3), Missing), 99, Missing},
	} {
		if got := Percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
		}
	}
}

func TestClosedSendsCorrelationIDsAndCountsStatuses(t *testing.T) {
	var mu sync.Mutex
	ids := map[string]bool{}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids[r.Header.Get("X-Correlation-ID")] = true
		mu.Unlock()
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	r := Closed(context.Background(), NewClient(4), Target{URL: srv.URL, IDPrefix: "t-"}, 4, 200*time.Millisecond)
	if r.OK == 0 || r.Failed == 0 || r.FirstErr == nil || !strings.Contains(r.FirstErr.Error(), "500") {
		t.Fatalf("OK %d, failed %d, first error %v: want both, and a 500", r.OK, r.Failed, r.FirstErr)
	}
	if len(r.Latencies) != r.OK {
		t.Errorf("%d latencies for %d answers", len(r.Latencies), r.OK)
	}
	if r.Statuses[http.StatusOK] != r.OK || r.Statuses[http.StatusInternalServerError] != r.Failed || len(r.Statuses) != 2 {
		t.Errorf("statuses %v for %d OK and %d 500", r.Statuses, r.OK, r.Failed)
	}
	if len(ids) != r.OK+r.Failed || !ids["t-0"] {
		t.Errorf("%d distinct IDs for %d requests (t-0 seen: %v)", len(ids), r.OK+r.Failed, ids["t-0"])
	}
}

// stalledServer returns the URL of a server that holds every request until stall has
// passed since it started, then answers 200.
func stalledServer(t *testing.T, stall time.Duration) string {
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-gate }))
	t.Cleanup(srv.Close)
	time.AfterFunc(stall, func() { close(gate) })
	return srv.URL
}

// TestOpenCountsFromTheSchedule: a server that holds every request until a gate opens
// must show the wait in the latencies of all requests scheduled before that, as a
// user would see it, while the load keeps its schedule.
func TestOpenCountsFromTheSchedule(t *testing.T) {
	url := stalledServer(t, 300*time.Millisecond)
	r := Open(context.Background(), NewClient(64), Target{URL: url, IDPrefix: "o-"}, OpenLoad{Rate: 100, Duration: 500 * time.Millisecond, MaxInFlight: 64})
	if r.OK != 50 || r.Failed != 0 {
		t.Fatalf("OK %d, failed %d: want 50 answered", r.OK, r.Failed)
	}
	// Request 0 was due at once and answered at about 300 ms.
	if first := r.Answered[0].Sub(r.Scheduled[0]); first < 250*time.Millisecond {
		t.Errorf("first request's latency %v: the stall is hidden", first)
	}
	// The schedule did not wait for the answers: the last send was due at 490 ms.
	if last := r.Scheduled[49].Sub(r.Scheduled[0]); last < 480*time.Millisecond || last > 500*time.Millisecond {
		t.Errorf("last request due %v after the first", last)
	}
	if p50 := Percentile(r.Latencies, 50); p50 < 50*time.Millisecond {
		t.Errorf("p50 %v: requests held by the stall should count it", p50)
	}
}

func TestOpenRefusesBeyondMaxInFlight(t *testing.T) {
	url := stalledServer(t, 400*time.Millisecond)
	r := Open(context.Background(), NewClient(8), Target{URL: url, IDPrefix: "m-"}, OpenLoad{Rate: 100, Duration: 200 * time.Millisecond, MaxInFlight: 5})
	if r.OK != 5 || r.Failed != 15 || r.NotSent != 15 || r.Statuses[0] != 0 {
		t.Errorf("OK %d, failed %d, not sent %d, statuses %v: want 5 in flight answered and 15 not sent", r.OK, r.Failed, r.NotSent, r.Statuses)
	}
}
