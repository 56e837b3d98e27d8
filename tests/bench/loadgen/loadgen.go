package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Target is what is requested: GET URL, with the header X-Correlation-ID set to
// IDPrefix followed by the request's index (0, 1, ...), so replies can be matched.
type Target struct {
	URL      string
	IDPrefix string
}

// Result is what one run observed.
type Result struct {
	Began   time.Time
	Elapsed time.Duration // first send to last answer
	OK      int           // 200 answers
	Failed  int           // other statuses and transport errors
	// Statuses counts the answers by HTTP status; transport errors are under 0.
	Statuses map[int]int
	// NotSent counts the open loop's requests not sent because maxInFlight waited
	// (also in Failed, not in Statuses).
	NotSent int
	// FirstTransportErr is the first request that got no answer at all.
	FirstTransportErr error
	// Latencies of the 200 answers: from the send (closed loop) or from the scheduled
	// send time (open loop).
	Latencies []time.Duration
	// Scheduled and Answered are per request index (open loop only): the planned send
	// time and when a 200 arrived (zero when none did).
	Scheduled []time.Time
	Answered  []time.Time
	FirstErr  error
}

// Rate is OK answers per second of Elapsed.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// NewClient returns an HTTP client that keeps up to conns connections open to one host.
func NewClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			DisableCompression:  true,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// Get sends request i of t and returns an error unless it was answered 200.
func Get(ctx context.Context, client *http.Client, t Target, i int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Correlation-ID", t.IDPrefix+strconv.Itoa(i))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &StatusError{URL: t.URL, Code: resp.StatusCode}
	}
	return nil
}

// StatusError is Get's error for an answer other than 200.
type StatusError struct {
	URL  string
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("GET %s: status %d", e.URL, e.Code) }

type tally struct {
	ok, failed atomic.Int64
	firstErr   atomic.Pointer[error]
	transport  atomic.Pointer[error] // the first error without an answer
	mu         sync.Mutex
	statuses   map[int]int
}

func (t *tally) record(err error) bool {
	status := http.StatusOK
	var se *StatusError
	switch {
	case err == nil:
	case errors.As(err, &se):
		status = se.Code
	default:
		status = 0
		t.transport.CompareAndSwap(nil, &err)
	}
	t.mu.Lock()
	if t.statuses == nil {
		t.statuses = map[int]int{}
	}
	t.statuses[status]++
	t.mu.Unlock()
	if err == nil {
		t.ok.Add(1)
		return true
	}
	t.failed.Add(1)
	t.firstErr.CompareAndSwap(nil, &err)
	return false
}

func (t *tally) fill(r *Result) {
	r.OK, r.Failed = int(t.ok.Load()), int(t.failed.Load())
	t.mu.Lock()
	r.Statuses = t.statuses
	t.mu.Unlock()
	if err := t.transport.Load(); err != nil {
		r.FirstTransportErr = *err
	}
	if err := t.firstErr.Load(); err != nil {
		r.FirstErr = *err
	}
}

// Closed runs concurrency clients against t for d, each sending its next request as
// soon as its last one was answered.
func Closed(ctx context.Context, client *http.Client, t Target, concurrency int, d time.Duration) Result {
	var (
		next  atomic.Int64
		tally tally
		wg    sync.WaitGroup
		mu    sync.Mutex
		all   []time.Duration
	)
	began := time.Now()
	deadline := began.Add(d)
	for range concurrency {
		wg.Go(func() {
			own := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				start := time.Now()
				if tally.record(Get(ctx, client, t, int(next.Add(1)-1))) {
					own = append(own, time.Since(start))
				}
			}
			mu.Lock()
			all = append(all, own...)
			mu.Unlock()
		})
	}
	wg.Wait()
	r := Result{Began: began, Elapsed: time.Since(began), Latencies: all}
	tally.fill(&r)
	return r
}

// OpenLoad is an open-loop load: Rate requests per second for Duration, at most
// MaxInFlight waiting at once.
type OpenLoad struct {
	Rate        float64
	Duration    time.Duration
	MaxInFlight int
}

// Open sends l.Rate requests per second to t for l.Duration, each at its scheduled time
// in its own goroutine (at most l.MaxInFlight at once: a request whose turn comes while
// that many wait is counted failed, not delayed). Latency counts from the scheduled time.
func Open(ctx context.Context, client *http.Client, t Target, l OpenLoad) Result {
	rate, d, maxInFlight := l.Rate, l.Duration, l.MaxInFlight
	n := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	r := Result{Scheduled: make([]time.Time, n), Answered: make([]time.Time, n)}
	var (
		tally    tally
		wg       sync.WaitGroup
		inFlight = make(chan struct{}, maxInFlight)
	)
	began := time.Now()
	for i := range n {
		at := began.Add(time.Duration(i) * interval)
		r.Scheduled[i] = at
		if wait := time.Until(at); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case inFlight <- struct{}{}:
		default:
			r.NotSent++
			tally.failed.Add(1)
			err := fmt.Errorf("more than %d requests in flight", maxInFlight)
			tally.firstErr.CompareAndSwap(nil, &err)
			continue
		}
		wg.Go(func() {
			defer func() { <-inFlight }()
			if tally.record(Get(ctx, client, t, i)) {
				r.Answered[i] = time.Now()
			}
		})
	}
	wg.Wait()
	r.Began, r.Elapsed = began, time.Since(began)
	tally.fill(&r)
	for i, at := range r.Answered {
		if !at.IsZero() {
			r.Latencies = append(r.Latencies, at.Sub(r.Scheduled[i]))
		}
	}
	return r
}
