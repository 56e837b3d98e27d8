package httpserver

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Over MaxConnections a connection is answered at once: 503 with Retry-After, or 200 to
// GET /healthz (liveness holds while busy); once a connection closes, requests are
// served again.
func TestConnectionsOverTheLimitAreRefused(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "served") })
	addr, cancel, runErr := start(t, handler, time.Second, MaxConnections(2))
	defer func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	// Two connections that never send a request hold both slots.
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond) // both accepted

	resp := rawGet(t, addr, "/v1/ping")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || !resp.Close {
		t.Errorf("over the limit: %d, Retry-After %q, close %t; want 503, 1, true", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close)
	}
	if resp := rawGet(t, addr, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz over the limit: %d, want 200", resp.StatusCode)
	}

	_ = held[0].Close()
	defer held[1].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := rawGet(t, addr, "/v1/ping")
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d after a slot was freed", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawGet sends one GET on a new connection and reads the answer.
func rawGet(t *testing.T, addr, path string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(body), "{") && resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: body %q", path, body)
	}
	return resp
}
