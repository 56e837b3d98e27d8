package e2e

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/platform/httpserver"

	"github.com/streamgate/streamgate/tests/bench/loadgen"
	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// overloadDuration is how long TestOverloadOpenLoop offers three times what the pipeline
// takes: short in `make e2e`; the documented run is
// go test -race -run TestOverloadOpenLoop ./tests/e2e/ -args -overload.duration=60s.
var overloadDuration = flag.Duration("overload.duration", 20*time.Second, "length of TestOverloadOpenLoop's open-loop load")

// Overload, open loop (issue 16): GET /v1/ping offered at three times the rate the
// gateway gets acknowledged by the broker in a closed loop, for -overload.duration, at
// the default MAX_IN_FLIGHT_REQUESTS. The broker takes what a producer quota on the
// gateway's client ID lets through (gatewayProduceQuota): unthrottled, on two shared
// cores, the gateway's own CPU is the limit and no load generator beside it can offer
// three times that (it sent 1,246 of 6,366 scheduled requests/s); throttled, the broker
// is the bottleneck, as a busy cluster is, and the whole 3x arrives. The gateway and worker are release builds (the
// race detector multiplies memory and CPU), at LOG_LEVEL=warn (every 503 is an info
// line, which only the test's log collector would keep). What must hold: the gateway's
// RSS stays under the chart's memory limit; the requests it accepts (200) are answered
// within a bound, the rest refused at once with 503 + Retry-After, none unanswered;
// every 200 is answered by the worker on the out-topic (read to its high-water mark);
// and a ping is answered 200 within seconds after the load.
func TestOverloadOpenLoop(t *testing.T) {
	const (
		bound        = 1024 // MAX_IN_FLIGHT_REQUESTS' default
		closedFor    = 5 * time.Second
		recoverIn    = 5 * time.Second
		answeredIn   = 3 * time.Minute
		sampleEvery  = 200 * time.Millisecond
		overloadRate = 3
		// Bytes/s of records the broker takes from the gateway: some 300 pings/s.
		gatewayProduceQuota = 96 << 10
	)
	clients := []int{32, 256, bound}
	tp := newTopics(t, suite.brokers)
	quiet := append(tp.env(suite.brokers), "LOG_LEVEL=warn")
	worker := startService(t, "worker-release", quiet...)
	gateway := startService(t, "gateway-release", quiet...)
	waitReady(t, worker, 60*time.Second)
	waitReady(t, gateway, 60*time.Second)
	limitProduceRate(t, gatewaykit.ProducerClientID, gatewayProduceQuota)
	url := fmt.Sprintf("http://%s/v1/ping", gateway.addr)
	prefix := fmt.Sprintf("ovl-%06d-", rand.IntN(1_000_000))
	ctx := t.Context()

	// What the broker takes: the closed loop's rate of acknowledged publishes, after
	// a warm-up (connections, the producer's batches).
	// The most it takes: the best of a few concurrencies up to the bound (beyond it
	// the gateway refuses), as the producer batches more the more wait.
	loadgen.Closed(ctx, loadgen.NewClient(clients[0]), loadgen.Target{URL: url, IDPrefix: prefix + "warm-"}, clients[0], 2*time.Second)
	var capacity float64
	best := 0
	for _, c := range clients {
		client := loadgen.NewClient(c)
		closed := loadgen.Closed(ctx, client, loadgen.Target{URL: url, IDPrefix: fmt.Sprintf("%sclosed-%d-", prefix, c)}, c, closedFor)
		client.CloseIdleConnections()
		if closed.Failed != 0 || closed.OK == 0 {
			t.Fatalf("closed loop at %d clients: %v, first error %v", c, closed.Statuses, closed.FirstErr)
		}
		t.Logf("closed loop, %d clients: %.0f pings/s, p99 %s", c, closed.Rate(), loadgen.Percentile(closed.Latencies, 99).Round(time.Millisecond))
		if closed.Rate() > capacity {
			capacity, best = closed.Rate(), c
		}
	}
	rssBefore := gateway.rss(t)

	// The open loop: the client lets four times the bound wait, so that the gateway,
	// not the client, refuses.
	offered := overloadRate * capacity
	sampler := startRSSSampler(t, gateway, sampleEvery)
	open := loadgen.Open(ctx, loadgen.NewClient(4*bound), loadgen.Target{URL: url, IDPrefix: prefix + "open-"},
		loadgen.OpenLoad{Rate: offered, Duration: *overloadDuration, MaxInFlight: 4 * bound})
	loadEnded := time.Now()
	rssPeak := sampler.stop(t)
	if sampler.inFlightPeak == 0 {
		t.Fatalf("the gateway's %s never rose above 0 during the load", publishesInFlight)
	}

	// Recovery: the first ping answered 200 after the last answer.
	var recovered time.Duration
	waitFor(t, 30*time.Second, "a ping answered 200 after the load", func() error {
		if status, _, body := ping(t, gateway, ""); status != http.StatusOK {
			return fmt.Errorf("%d %s", status, body)
		}
		recovered = time.Since(loadEnded)
		return nil
	})

	p50, p99, slowest := loadgen.Percentile(open.Latencies, 50), loadgen.Percentile(open.Latencies, 99), loadgen.Percentile(open.Latencies, 100)
	quarters := quarterP99s(open)
	sent := len(open.Scheduled) - open.NotSent
	t.Logf("closed loop at best (%d clients, %s): %.0f pings/s acknowledged; open loop scheduled at %.0f/s (x%d) for %s, %.0f/s sent (%d not sent: the generator's %d waited); answers %v (0: none); %.0f/s accepted; accepted latency from the schedule p50 %s, p99 %s, max %s, p99 per quarter of the run %v; at most %.0f publishes in flight (bound %d); gateway RSS %d MiB before, peak %d MiB (chart limit %d MiB), at most %d open files; 200 again %s after the load",
		best, closedFor, capacity, offered, overloadRate, *overloadDuration, float64(sent)/overloadDuration.Seconds(), open.NotSent, 4*bound,
		open.Statuses, float64(open.OK)/open.Elapsed.Seconds(),
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), slowest.Round(time.Millisecond), quarters,
		sampler.inFlightPeak, bound, rssBefore>>20, rssPeak>>20, chartMemoryLimit>>20, sampler.fdPeak, recovered.Round(time.Millisecond))

	// Every request sent is answered 200, or 503 at the bounds, but for connections
	// closed at once while maxRefusing refusals are under way (httpserver): the client
	// sees a closed connection, the gateway holds nothing. Measured ~1 % here.
	for status, n := range open.Statuses {
		if status != http.StatusOK && status != http.StatusServiceUnavailable && status != 0 {
			t.Errorf("%d answers with status %d: want only 200 and 503", n, status)
		}
	}
	if closedAtOnce := open.Statuses[0]; closedAtOnce*20 > sent {
		t.Errorf("%d of %d requests sent got no answer (over 5 %%); first: %v", closedAtOnce, sent, open.FirstTransportErr)
	}
	if open.Statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no 503 at %.0f/s: the load did not reach the bound", offered)
	}
	if open.OK == 0 {
		t.Fatal("no request accepted under the load")
	}
	if rssPeak >= chartMemoryLimit {
		t.Errorf("gateway RSS peaked at %d MiB, over the chart's %d MiB limit", rssPeak>>20, chartMemoryLimit>>20)
	}
	// Bounded: the gateway holds at most the bound, so an accepted request waits behind
	// at most that many. The broker's quota throttling makes the wait swing by seconds
	// from quarter to quarter (p99s of 8.5, 2.1, 6.3 and 6.4 s in one CI run), so the
	// trend check compares the last quarter with the worst of the first half: an
	// unbounded queue's wait grows with the time the overload has lasted, doubling from
	// the first half's end to the last quarter's.
	if sampler.inFlightPeak > bound {
		t.Errorf("%.0f publishes in flight at once, over the bound of %d", sampler.inFlightPeak, bound)
	}
	if firstHalf := max(quarters[0], quarters[1]); quarters[3] > firstHalf*3/2+2*time.Second {
		t.Errorf("p99 of accepted requests grew from %s (worst of the first half) to %s (last quarter): the wait is not bounded", firstHalf, quarters[3])
	}
	if slowest > httpserver.WriteTimeout {
		t.Errorf("an accepted request took %s, past the server's %s write timeout", slowest, httpserver.WriteTimeout)
	}
	if recovered > recoverIn {
		t.Errorf("200 again only %s after the load, want within %s", recovered, recoverIn)
	}

	// Every acknowledged ping is answered by the worker.
	var acked []string
	for i, at := range open.Answered {
		if !at.IsZero() {
			acked = append(acked, fmt.Sprintf("%sopen-%d", prefix, i))
		}
	}
	missing := unanswered(t, tp, acked, answeredIn)
	t.Logf("%d acknowledged pings, %d without a reply on %s", len(acked), len(missing), tp.out)
	if len(missing) > 0 {
		t.Errorf("%d acknowledged pings never answered on %s, e.g. %s", len(missing), tp.out, missing[0])
	}
}

// limitProduceRate sets a producer_byte_rate quota on the client ID until the test
// ends: beyond it the broker delays the client's produce responses.
func limitProduceRate(t *testing.T, clientID string, bytesPerSecond float64) {
	t.Helper()
	admin := newAdmin(t, suite.brokers)
	entity := []sarama.QuotaEntityComponent{{EntityType: sarama.QuotaEntityClientID, MatchType: sarama.QuotaMatchExact, Name: clientID}}
	if err := admin.AlterClientQuotas(entity, sarama.ClientQuotasOp{Key: "producer_byte_rate", Value: bytesPerSecond}, false); err != nil {
		t.Fatalf("producer quota on %s: %v", clientID, err)
	}
	t.Cleanup(func() {
		if err := admin.AlterClientQuotas(entity, sarama.ClientQuotasOp{Key: "producer_byte_rate", Remove: true}, false); err != nil {
			t.Errorf("remove the producer quota on %s: %v", clientID, err)
		}
	})
}

// unanswered waits until the worker has answered everything on tp.in (the out-topic's
// high-water mark reaches the in-topic's) or within passes, then reads tp.out to its
// high-water mark and returns the ids without a reply.
func unanswered(t *testing.T, tp topics, ids []string, within time.Duration) []string {
	t.Helper()
	client, err := sarama.NewClient(strings.Split(suite.brokers, ","), clientConfig(suite.brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var in, out int64
	drained := func() error {
		if in, err = testkit.HighWaterMarks(client, tp.in); err != nil {
			return err
		}
		if out, err = testkit.HighWaterMarks(client, tp.out); err != nil {
			return err
		}
		if out < in {
			return fmt.Errorf("%d requests on %s, %d replies on %s", in, tp.in, out, tp.out)
		}
		return nil
	}
	if err := testkit.Poll(t.Context(), within, time.Second, drained); err != nil {
		t.Logf("the worker did not catch up: %v", err)
	}
	counts := countsToHighWater(t, suite.brokers, tp.out)
	var missing []string
	for _, id := range ids {
		if counts[id] == 0 {
			missing = append(missing, id)
		}
	}
	return missing
}

// rssSampler reads a service's RSS, open files and publishes in flight every interval
// until stop, which returns the RSS peak.
type rssSampler struct {
	done   chan struct{}
	wg     sync.WaitGroup
	peak   int64
	fdPeak int // open files: the connections, mostly
	// inFlightPeak is the most publishes the gateway's gauge showed at once.
	inFlightPeak float64
	err          error
}

func startRSSSampler(t *testing.T, s *service, every time.Duration) *rssSampler {
	r := &rssSampler{done: make(chan struct{}), peak: s.rss(t)}
	pid := s.cmd.Process.Pid
	r.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-r.done:
				return
			case <-tick.C:
				rss, err := readRSS(pid)
				if err != nil {
					r.err = err
					return
				}
				r.peak = max(r.peak, rss)
				if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
					r.fdPeak = max(r.fdPeak, len(fds))
				}
				samples, err := s.samples()
				if err != nil {
					r.err = err
					return
				}
				r.inFlightPeak = max(r.inFlightPeak, samples[publishesInFlight])
			}
		}
	})
	return r
}

// publishesInFlight is the gateway's gauge of publishes awaiting the broker's ack.
const publishesInFlight = "streamgate_gateway_publishes_in_flight"

// stop ends the sampling and returns the peak.
func (r *rssSampler) stop(t *testing.T) int64 {
	t.Helper()
	close(r.done)
	r.wg.Wait()
	if r.err != nil {
		t.Fatalf("RSS: %v", r.err)
	}
	return r.peak
}

// quarterP99s is the p99 of the accepted requests' latencies (from their scheduled
// time) in each quarter of the run, by schedule.
func quarterP99s(r loadgen.Result) [4]time.Duration {
	var byQuarter [4][]time.Duration
	for i, at := range r.Answered {
		if !at.IsZero() {
			q := i * 4 / len(r.Answered)
			byQuarter[q] = append(byQuarter[q], at.Sub(r.Scheduled[i]))
		}
	}
	var p99s [4]time.Duration
	for q, l := range byQuarter {
		p99s[q] = loadgen.Percentile(l, 99).Round(time.Millisecond)
	}
	return p99s
}
