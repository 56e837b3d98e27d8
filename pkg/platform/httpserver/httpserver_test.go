package httpserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// An in-flight request finishes after shutdown begins; new connections are refused.
func TestRunDrainsInFlightRequests(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	addr, cancel, runErr := start(t, handler, 5*time.Second)

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-entered
	cancel()
	if !listenerClosed(addr, 5*time.Second) {
		t.Error("listener still accepts connections during shutdown")
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "done" {
		t.Fatalf("in-flight request: body %q, err %v", r.body, r.err)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// A request still running when the grace period ends has its context cancelled, so its
// handler stops with the server rather than after it.
func TestRunCancelsRequestsLeftAfterShutdownTimeout(t *testing.T) {
	entered := make(chan struct{})
	cancelled := make(chan struct{})
	handler := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(time.Minute):
		}
	})
	addr, cancel, runErr := start(t, handler, 100*time.Millisecond)
	go func() {
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	cancel()
	if err := <-runErr; err == nil {
		t.Error("Run: want the graceful shutdown's timeout")
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's request context was not cancelled after the shutdown timeout")
	}
}

// start runs handler on a free loopback port until cancel; Run's result arrives on runErr.
func start(t *testing.T, handler http.Handler, shutdownTimeout time.Duration, opts ...Option) (addr string, cancel context.CancelFunc, runErr <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrCh := make(chan net.Addr, 1)
	result := make(chan error, 1)
	go func() {
		result <- Run(ctx, New("127.0.0.1:0", handler), shutdownTimeout, func(a net.Addr) { addrCh <- a }, opts...)
	}()
	select {
	case a := <-addrCh:
		return a.String(), cancel, result
	case err := <-result:
		cancel()
		t.Fatal(err)
		return "", nil, nil
	}
}

func TestRunReportsListenError(t *testing.T) {
	if err := Run(context.Background(), New("127.0.0.1:-1", http.NotFoundHandler()), time.Second, nil); err == nil {
		t.Fatal("want an error for a bad address")
	}
}

func listenerClosed(addr string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return true
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// Headers over MaxHeaderBytes are refused with 431 before any handler runs, so a
// request waiting for its reply holds at most that much header.
func TestHeadersOverTheLimitAre431(t *testing.T) {
	handled := make(chan struct{}, 1)
	addr, cancel, _ := start(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { handled <- struct{}{} }), time.Second)
	defer cancel()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KiB of headers: status %d, want 431", resp.StatusCode)
	}
	select {
	case <-handled:
		t.Fatal("the handler ran for an oversized request")
	default:
	}
}

// Started is when the request reached the server, before the handler ran.
func TestStartedIsTheArrivalTime(t *testing.T) {
	got := make(chan time.Duration, 1)
	addr, cancel, _ := start(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		got <- time.Since(Started(r.Context()))
	}), time.Second)
	defer cancel()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := <-got; d < 50*time.Millisecond {
		t.Fatalf("Started was %s before the handler's end, want at least 50ms", d)
	}
}
