package e2e

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// The gateway reports the worker group's lag from the broker: it exists before any
// worker ever ran (counted from the log start), grows while the worker is stopped, and
// falls to 0 once a worker drained the backlog.
func TestGroupLagFromTheBrokerWhileNoWorkerRuns(t *testing.T) {
	t.Parallel() // its own topics, group and processes; it mostly waits on them
	tp := newTopics(t, suite.brokers)
	gateway := startService(t, "gateway", tp.env(suite.brokers)...)
	waitReady(t, gateway, 60*time.Second)
	group, in := `group="`+tp.group+`"`, `topic="`+tp.in+`"`
	lag := func(want float64) func() error {
		return func() error {
			g := gateway.scrape(t)
			sum, parts := sumOf(g, "streamgate_consumer_group_lag", group, in)
			if up := g["streamgate_consumer_group_lag_up{"+group+","+in+"}"]; up != 1 || sum != want || parts != 3 {
				return fmt.Errorf("lag %v over %d partitions (up %v), want %v over 3", sum, parts, up, want)
			}
			return nil
		}
	}
	const pings = 5
	for i := range pings {
		if status, _, body := ping(t, gateway, fmt.Sprintf("lag-%d", i)); status != http.StatusOK {
			t.Fatalf("ping %d: %d %s", i, status, body)
		}
	}
	waitFor(t, 20*time.Second, "the lag of a group that never consumed", lag(pings))

	worker := startService(t, "worker", tp.env(suite.brokers)...)
	waitFor(t, 60*time.Second, "the lag once the worker drained the topic", lag(0))

	if err := worker.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := range pings {
		if status, _, body := ping(t, gateway, fmt.Sprintf("lag-stopped-%d", i)); status != http.StatusOK {
			t.Fatalf("ping %d: %d %s", i, status, body)
		}
	}
	waitFor(t, 20*time.Second, "the lag while the worker is stopped", lag(pings))
	worker.restart()
	waitFor(t, 60*time.Second, "the lag once the restarted worker drained the topic", lag(0))
}
