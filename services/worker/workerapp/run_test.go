package workerapp

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	platform "github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/router"
)

// echoRoute registers one route that answers each record with its body.
func echoRoute(r *router.Router, cfg Config) error {
	return router.Register(r, router.Route[string, string]{
		Topic: cfg.InTopic, ReplyTopic: cfg.OutTopic, DeadLetterTopic: cfg.DLQTopic,
		Handler: func(_ context.Context, m router.Message[string]) (string, error) { return m.Body, nil },
	})
}

func testConfig(kafkaEnabled bool, brokers ...string) Config {
	return Config{
		Common: platform.Common{
			HTTPAddr:        "127.0.0.1:0",
			AppVersion:      "test",
			KafkaEnabled:    kafkaEnabled,
			KafkaBrokers:    brokers,
			InTopic:         "in-topic",
			LogLevel:        "debug",
			LogFormat:       "json",
			ShutdownTimeout: 5 * time.Second,
		},
		OutTopic: "out-topic",
		DLQTopic: "in-topic.dlq",
		GroupID:  "streamgate-worker",

		MetricsAddr:    "127.0.0.1:0",
		StuckThreshold: time.Minute,
	}
}

// started runs the worker and returns its probe server's base URL, the observed logs
// and a stop function that cancels the worker and returns Run's error.
func started(t *testing.T, cfg Config) (string, *observer.ObservedLogs, func() error) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	noEnv := func(string) (string, bool) { return "", false }
	go func() {
		done <- runner{cfg: cfg, logger: zap.New(core), register: echoRoute, getenv: noEnv, probesListening: func(a net.Addr) { addr <- a }}.run(ctx)
	}()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			done <- err // stop may run twice: once from the test, once from cleanup
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("worker did not stop")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	select {
	case a := <-addr:
		return "http://" + a.String(), logs, stop
	case err := <-done:
		t.Fatalf("worker stopped at start-up: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("probe server did not start")
	}
	return "", nil, nil
}

func get(t *testing.T, url string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want JSON", url, ct)
	}
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: body %q is not a JSON object: %v", url, body, err)
	}
	return resp.StatusCode, m
}

// waitStatus polls url until it answers want.
func waitStatus(t *testing.T, url string, want int) map[string]string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := get(t, url)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d %v, want %d", url, code, body, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKafkaDisabledServesProbesAndStops(t *testing.T) {
	base, logs, stop := started(t, testConfig(false))

	waitStatus(t, base+"/healthz", http.StatusOK)
	waitStatus(t, base+"/readyz", http.StatusOK)
	if code, body := get(t, base+"/nope"); code != http.StatusNotFound || body["detail"] != "Not Found" {
		t.Errorf("/nope = %d %v, want 404 {detail: Not Found}", code, body)
	}
	if logs.FilterMessageSnippet("Kafka is disabled").Len() != 1 {
		t.Error("no start-up line saying Kafka is disabled")
	}

	if err := stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if logs.FilterMessage("worker stopped").Len() != 1 {
		t.Error("no \"worker stopped\" line")
	}
}

// Without a reachable broker the worker stays up, not ready, and keeps trying; it
// still stops promptly.
func TestUnreachableBrokerIsNotReadyAndRetries(t *testing.T) {
	// A port that was just free: connections are refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	broker := ln.Addr().String()
	ln.Close()

	base, logs, stop := started(t, testConfig(true, broker))
	waitStatus(t, base+"/healthz", http.StatusOK)
	waitStatus(t, base+"/readyz", http.StatusServiceUnavailable)
	deadline := time.Now().Add(5 * time.Second)
	for logs.FilterMessage("cannot connect to Kafka; retrying").Len() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no repeated connection attempts logged")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The public /readyz says only "not ready"; the log says why.
	body := waitStatus(t, base+"/readyz", http.StatusServiceUnavailable)
	if len(body) != 1 || body["status"] != "not ready" {
		t.Errorf("public /readyz = %v, want only the status", body)
	}
	if logs.FilterMessage("not ready").FilterFieldKey("error").Len() == 0 {
		t.Error("the reason for not being ready is not logged")
	}
	if err := stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}

// A route the router refuses is a start-up error, before anything listens.
func TestBadRouteFailsStartUp(t *testing.T) {
	cfg := testConfig(false)
	cfg.DLQTopic = "bad topic"
	err := Run(context.Background(), cfg, zap.NewNop(), echoRoute)
	if err == nil || !strings.Contains(err.Error(), "DeadLetterTopic") {
		t.Fatalf("Run = %v, want an error naming DeadLetterTopic", err)
	}
}

func TestProbePortInUseFailsStartUp(t *testing.T) {
	portInUseFailsStartUp(t, func(cfg *Config, addr string) { cfg.HTTPAddr = addr })
}

func TestMetricsPortInUseFailsStartUp(t *testing.T) {
	portInUseFailsStartUp(t, func(cfg *Config, addr string) { cfg.MetricsAddr = addr })
}

func portInUseFailsStartUp(t *testing.T, use func(*Config, string)) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(false)
	use(&cfg, ln.Addr().String())

	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), cfg, zap.NewNop(), echoRoute) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "listen") {
			t.Errorf("Run = %v, want a listen error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going without its probe server")
	}
}
