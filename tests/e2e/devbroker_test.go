package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startDevbroker runs the in-memory broker of `make run` with its default topics on a
// free loopback port until the test ends, and returns its address.
func startDevbroker(t *testing.T) string {
	t.Helper()
	addr := freeLoopbackAddr(t)
	cmd := exec.Command(filepath.Join(suite.binDir, "devbroker"), "-addr", addr)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start devbroker: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		_, _ = bufio.NewReader(stdout).WriteTo(discard{}) // keep the pipe drained
	}()
	select {
	case line := <-ready:
		if !strings.Contains(line, "listening on "+addr) {
			t.Fatalf("devbroker: %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("devbroker did not start within 30s")
	}
	return addr
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// The quick start (`make run`): on the devbroker with every setting at its default,
// POST /v1/requests gets the worker's reply (it was 503: no in-topic.replies), and the
// orders example's pair answers a synchronous order.
func TestQuickStartOnDevbroker(t *testing.T) {
	addr := startDevbroker(t)
	env := []string{"KAFKA_BROKERS=" + addr, "SHUTDOWN_TIMEOUT=10s"}
	defaults := topics{in: "in-topic", out: "out-topic", dlq: "in-topic.dlq", group: "streamgate-worker"}
	gateway, _ := startPair(t, addr, defaults)
	client := &http.Client{Timeout: 40 * time.Second}
	waitFor(t, 60*time.Second, "POST /v1/requests on the devbroker", func() error {
		status, body, err := postRequest(client, gateway, "quick-start-1", "10s")
		if err == nil && (status != http.StatusOK || !strings.Contains(string(body), `"status":"Completed"`)) {
			err = fmt.Errorf("%d %s", status, body)
		}
		return err
	})

	ordersWorker := startService(t, "orders-worker", append(env, "KAFKA_GROUP_ID=orders-worker", "ORDERS_TRANSIENT_FAILURE_RATE=0")...)
	ordersGateway := startService(t, "orders-gateway", env...)
	waitReady(t, ordersWorker, 60*time.Second)
	waitReady(t, ordersGateway, 60*time.Second)
	if res := syncOrder(t, ordersGateway, "book"); res.Status != "Completed" {
		t.Errorf("order on the devbroker: %+v", res)
	}
}
