package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/probe"
)

func TestNamesListsEveryFamilyEvenWithoutSeries(t *testing.T) {
	r, err := NewRegistry("svc", "1.0")
	if err != nil {
		t.Fatal(err)
	}
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "streamgate_test_total", Help: "h"}, []string{"x"})
	if err := r.RegisterAll(vec); err != nil {
		t.Fatal(err)
	}
	names := Names(r)
	for _, want := range []string{"streamgate_build_info", "streamgate_kafka_connected", "streamgate_test_total", "go_goroutines", "process_cpu_seconds_total"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names lacks %s: %v", want, names)
		}
	}
	if err := r.RegisterAll(vec); err == nil {
		t.Error("registering a collector twice passed")
	}
}

func TestServeOnItsOwnAddress(t *testing.T) {
	r, err := NewRegistry("svc", "1.0")
	if err != nil {
		t.Fatal(err)
	}
	SetBool(r.KafkaConnected, true)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", r, zap.NewNop(), func(a net.Addr) { addr <- a }) }()
	base := "http://" + (<-addr).String()
	body := get(t, base+"/metrics", http.StatusOK)
	for _, want := range []string{`streamgate_build_info{streamgate_service="svc",version="1.0"} 1`, "streamgate_kafka_connected 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if body := get(t, base+"/other", http.StatusNotFound); !strings.Contains(body, `"detail"`) {
		t.Errorf("404 body %q", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
}

func TestServeOffWaitsForContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := Serve(ctx, Disabled, prometheus.NewRegistry(), zap.NewNop(), nil); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s: %d, want %d", url, resp.StatusCode, status)
	}
	return string(body)
}

// The private port says why the service is not ready.
func TestWithReadinessServesTheReason(t *testing.T) {
	var r probe.Readiness
	r.Set(errors.New("broker down"))
	rec := httptest.NewRecorder()
	Handler(prometheus.NewRegistry(), WithReadiness(&r)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, probe.ReasonsPath, nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "broker down") {
		t.Fatalf("metrics port %s: %d %s, want 503 with the reason", probe.ReasonsPath, rec.Code, rec.Body)
	}
}
