package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// Overload (issue 16): with MAX_IN_FLIGHT_REQUESTS=50 and the worker frozen (SIGSTOP),
// 150 concurrent POST /v1/requests with 16 KiB of headers each, three times the bound,
// get 504 at their timeout for those let in and 503 with Retry-After at once for the
// others; GET /v1/ping is refused the same while the bound is full; the gateway's memory
// and goroutines stay bounded; after SIGCONT it answers 200 again without a restart.
func TestOverloadBoundWithFrozenWorker(t *testing.T) {
	const bound, offered, replyTimeout = 50, 150, 5 * time.Second
	tp := newTopics(t, suite.brokers)
	if err := newAdmin(t, suite.brokers).CreateTopic(tp.in+".replies", &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	worker := startService(t, "worker", tp.env(suite.brokers)...)
	// The release build, as in TestOverloadBoundWithFrozenBroker: its memory is what
	// the chart's limit holds (the in-flight bound runs under -race in its unit test).
	gateway := startService(t, "gateway-release", append(tp.env(suite.brokers), fmt.Sprintf("MAX_IN_FLIGHT_REQUESTS=%d", bound))...)
	waitReady(t, worker, 60*time.Second)
	waitReady(t, gateway, 60*time.Second)
	client := &http.Client{Timeout: 30 * time.Second}
	waitFor(t, 60*time.Second, "a request answered before the load", func() error {
		status, body, err := postRequest(client, gateway, "overload-warm-up", "5s")
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("%d %s", status, body)
		}
		return err
	})
	client.CloseIdleConnections()
	goroutinesBefore, rssBefore := gateway.scrape(t)["go_goroutines"], gateway.rss(t)

	if err := syscall.Kill(worker.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(worker.cmd.Process.Pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)

	type answer struct {
		status     int
		retryAfter string
		took       time.Duration
		err        error
	}
	pad := strings.Repeat("p", 16<<10)
	answers := make(chan answer, offered)
	var wg sync.WaitGroup
	for i := range offered {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/v1/requests?timeout=%s", gateway.addr, replyTimeout), nil)
			req.Header.Set("X-Correlation-ID", fmt.Sprintf("overload-%03d", i))
			req.Header.Set("X-Pad", pad)
			began := time.Now()
			resp, err := client.Do(req)
			a := answer{err: err, took: time.Since(began)}
			if err == nil {
				a.status, a.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
				resp.Body.Close()
			}
			answers <- a
		})
	}

	// While the bound is full: a ping is refused too, and memory is sampled.
	time.Sleep(time.Second)
	status, header, body, err := gateway.request("/v1/ping", nil)
	if err != nil || status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
		t.Errorf("GET /v1/ping while %d requests wait: %d %s (Retry-After %q) %v; want 503 with Retry-After", bound, status, body, header.Get("Retry-After"), err)
	}
	goroutinesDuring := gateway.scrape(t)["go_goroutines"]
	rssPeak := gateway.rss(t)
	for deadline := time.Now().Add(replyTimeout + 20*time.Second); len(answers) < offered && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		rssPeak = max(rssPeak, gateway.rss(t))
	}
	wg.Wait()
	close(answers)

	counts := map[int]int{}
	var slowestRefusal, slowestTimeout time.Duration
	for a := range answers {
		if a.err != nil {
			t.Errorf("a request failed: %v", a.err)
			continue
		}
		counts[a.status]++
		switch a.status {
		case http.StatusServiceUnavailable:
			if a.retryAfter == "" {
				t.Error("a 503 without Retry-After")
			}
			slowestRefusal = max(slowestRefusal, a.took)
		case http.StatusGatewayTimeout:
			slowestTimeout = max(slowestTimeout, a.took)
		}
	}
	t.Logf("%d requests at a bound of %d, worker frozen: %v; slowest 503 %s, slowest 504 %s; gateway RSS %d MiB before, peak %d MiB (chart limit %d MiB); goroutines %v before, %v during",
		offered, bound, counts, slowestRefusal.Round(time.Millisecond), slowestTimeout.Round(time.Millisecond),
		rssBefore>>20, rssPeak>>20, chartMemoryLimit>>20, goroutinesBefore, goroutinesDuring)
	if counts[http.StatusGatewayTimeout] > bound || counts[http.StatusServiceUnavailable] < offered-bound ||
		counts[http.StatusGatewayTimeout]+counts[http.StatusServiceUnavailable] != offered {
		t.Errorf("answers %v: want at most %d 504 and the rest 503", counts, bound)
	}
	if slowestRefusal > 2*time.Second {
		t.Errorf("a refusal took %s: beyond the bound a request must be answered at once", slowestRefusal)
	}
	if slowestTimeout > replyTimeout+3*time.Second {
		t.Errorf("a 504 took %s, past its %s timeout", slowestTimeout, replyTimeout)
	}
	// The limit holds the whole process: the growth must stay under it minus the baseline.
	if grown := rssPeak - rssBefore; grown >= chartMemoryLimit-rssBefore {
		t.Errorf("gateway RSS grew %d MiB from %d MiB: over the chart's %d MiB limit", grown>>20, rssBefore>>20, chartMemoryLimit>>20)
	}
	// A request holds a few goroutines (its connection, the reply wait); the bound
	// keeps them from growing with what is offered.
	if goroutinesDuring > goroutinesBefore+4*bound {
		t.Errorf("goroutines %v during the load (from %v): not bounded by the %d requests let in", goroutinesDuring, goroutinesBefore, bound)
	}

	resume()
	resumedAt := time.Now()
	waitFor(t, 30*time.Second, "a request answered after SIGCONT", func() error {
		status, body, err := postRequest(client, gateway, fmt.Sprintf("overload-after-%d", time.Now().UnixNano()), "5s")
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("%d %s", status, body)
		}
		return err
	})
	t.Logf("answered 200 again %s after SIGCONT", time.Since(resumedAt).Round(time.Millisecond))
	client.CloseIdleConnections()
	waitFor(t, 30*time.Second, "goroutines back to where they were", func() error {
		if g := gateway.scrape(t)["go_goroutines"]; g > goroutinesBefore+10 {
			return fmt.Errorf("%v goroutines, %v before", g, goroutinesBefore)
		}
		return nil
	})
}

// Overload with the broker frozen (issue 16), on the release build of the gateway:
// GET /v1/ping offered open-loop at 100/s
// for 30 s, with the broker stopped by SIGSTOP for 20 s of it. Every request is answered
// within the server's write timeout: 200, 500 when its publish failed, or 503 with
// Retry-After once MAX_IN_FLIGHT_REQUESTS wait; the gateway's memory and goroutines stay
// bounded, and after SIGCONT it publishes again without a restart.
func TestOverloadBoundWithFrozenBroker(t *testing.T) {
	const (
		bound      = 50
		rate       = 100 // requests per second
		before     = 5 * time.Second
		frozenFor  = 20 * time.Second
		after      = 5 * time.Second
		answerCap  = 36 * time.Second // the server's write timeout, and a margin
		sampleTick = 250 * time.Millisecond
	)
	b, err := testkit.StartKafka(suite.repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Clean)
	tp := newTopics(t, b.Addr)
	// The release build: its memory is what the chart's limit holds (the race
	// detector's is several times larger, and flaked against a fixed margin).
	gateway := startService(t, "gateway-release", append(tp.env(b.Addr), fmt.Sprintf("MAX_IN_FLIGHT_REQUESTS=%d", bound))...)
	waitReady(t, gateway, 60*time.Second)
	if status, _, body := ping(t, gateway, "frozen-warm-up"); status != http.StatusOK {
		t.Fatalf("ping before the load: %d %s", status, body)
	}
	goroutinesBefore, rssBefore := gateway.scrape(t)["go_goroutines"], gateway.rss(t)
	pid := gateway.cmd.Process.Pid

	type answer struct {
		status     int
		retryAfter string
		took       time.Duration
		err        error
	}
	client := &http.Client{Timeout: answerCap + 10*time.Second}
	answers := make(chan answer, rate*int((before+frozenFor+after)/time.Second)+rate)
	var wg sync.WaitGroup
	began := time.Now()
	frozen, thawed := false, false
	thaw := func() {
		if frozen && !thawed {
			thawed = true
			_ = b.Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw)
	var goroutinesPeak float64
	rssPeak := rssBefore
	tick := time.NewTicker(time.Second / rate)
	sample := time.NewTicker(sampleTick)
	for time.Since(began) < before+frozenFor+after {
		select {
		case <-tick.C:
			wg.Go(func() {
				sent := time.Now()
				resp, err := client.Get(fmt.Sprintf("http://%s/v1/ping", gateway.addr))
				a := answer{err: err, took: time.Since(sent)}
				if err == nil {
					a.status, a.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
					resp.Body.Close()
				}
				answers <- a
			})
		case <-sample.C:
			rssPeak = max(rssPeak, gateway.rss(t))
			if frozen && !thawed {
				goroutinesPeak = max(goroutinesPeak, gateway.scrape(t)["go_goroutines"])
			}
		}
		switch elapsed := time.Since(began); {
		case !frozen && elapsed >= before:
			if err := b.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			frozen = true
		case frozen && !thawed && elapsed >= before+frozenFor:
			thaw()
		}
	}
	tick.Stop()
	sample.Stop()
	wg.Wait()
	close(answers)

	counts := map[int]int{}
	var slowest time.Duration
	for a := range answers {
		if a.err != nil {
			t.Errorf("a request got no answer: %v", a.err)
			continue
		}
		counts[a.status]++
		slowest = max(slowest, a.took)
		switch a.status {
		case http.StatusOK, http.StatusInternalServerError:
		case http.StatusServiceUnavailable:
			if a.retryAfter == "" {
				t.Error("a 503 without Retry-After")
			}
		default:
			t.Errorf("answer %d", a.status)
		}
	}
	t.Logf("pings at %d/s for %s, the broker frozen for %s of it, bound %d: %v, slowest answer %s; gateway RSS %d MiB before, peak %d MiB (chart limit %d MiB); goroutines %v before, peak %v while frozen",
		rate, before+frozenFor+after, frozenFor, bound, counts, slowest.Round(time.Millisecond),
		rssBefore>>20, rssPeak>>20, chartMemoryLimit>>20, goroutinesBefore, goroutinesPeak)
	if counts[http.StatusServiceUnavailable] == 0 {
		t.Error("no 503 while the broker was frozen: the bound on requests in flight was never reached")
	}
	if slowest > answerCap {
		t.Errorf("an answer took %s, past the server's write timeout", slowest)
	}
	// The container's limit holds the whole process, its baseline included: growth
	// must stay under the limit minus the baseline, i.e. the peak under the limit.
	if grown := rssPeak - rssBefore; grown >= chartMemoryLimit-rssBefore {
		t.Errorf("gateway RSS grew %d MiB from %d MiB: over the chart's %d MiB limit", grown>>20, rssBefore>>20, chartMemoryLimit>>20)
	}
	if goroutinesPeak > goroutinesBefore+4*bound {
		t.Errorf("goroutines %v while frozen (from %v): not bounded by the %d requests let in", goroutinesPeak, goroutinesBefore, bound)
	}

	thawedAt := time.Now()
	waitFor(t, 30*time.Second, "a ping published after SIGCONT", func() error {
		if status, _, body := ping(t, gateway, ""); status != http.StatusOK {
			return fmt.Errorf("%d %s", status, body)
		}
		return nil
	})
	t.Logf("pings answered 200 again %s after the last request (the broker thawed %s before)", time.Since(thawedAt).Round(time.Millisecond), after)
	if gateway.exited() || gateway.cmd.Process.Pid != pid {
		t.Fatal("the gateway restarted")
	}
	client.CloseIdleConnections()
	waitFor(t, 30*time.Second, "goroutines back to where they were", func() error {
		if g := gateway.scrape(t)["go_goroutines"]; g > goroutinesBefore+10 {
			return fmt.Errorf("%v goroutines, %v before", g, goroutinesBefore)
		}
		return nil
	})
}
