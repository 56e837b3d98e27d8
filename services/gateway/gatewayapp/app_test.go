package gatewayapp

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/streamgate/streamgate/pkg/platform/config"
	gwconfig "github.com/streamgate/streamgate/services/gateway/config"
)

// With Kafka disabled the gateway answers pong without a broker, is ready at once, and
// stops cleanly when its context ends.
func TestRunWithKafkaDisabled(t *testing.T) {
	gin.SetMode(gin.TestMode)
	addr := freeAddr(t)
	cfg := gwconfig.Config{Common: config.Common{
		HTTPAddr: addr, AppVersion: "test-1", KafkaEnabled: false, ShutdownTimeout: 5 * time.Second,
	}, MetricsAddr: "127.0.0.1:0"}
	var logs syncBuffer
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), &logs, zap.InfoLevel))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	metricsAddr := make(chan net.Addr, 1)
	noEnv := func(string) (string, bool) { return "", false }
	r := runner{cfg: cfg, logger: logger, endpoints: SampleEndpoints, getenv: noEnv, metricsListening: func(a net.Addr) { metricsAddr <- a }}
	go func() { done <- r.run(ctx) }()

	waitOK(t, "http://"+addr+"/readyz")
	resp, err := http.Get("http://" + addr + "/v1/ping")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != `{"version":"test-1","message":"pong"}` {
		t.Fatalf("ping: %d %s", resp.StatusCode, body)
	}
	// /metrics is on its own port, never on the API's.
	scrape := getBody(t, "http://"+(<-metricsAddr).String()+"/metrics")
	for _, want := range []string{
		`streamgate_build_info{streamgate_service="gateway",version="test-1"} 1`,
		`streamgate_http_requests_total{code="200",method="GET",route="/v1/ping"} 1`,
		"go_goroutines ", "process_cpu_seconds_total ",
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the API port: %d, want 404", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	for _, want := range []string{"Kafka is disabled", "gateway stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitOK(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not OK after 10s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Sync() error { return nil }

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A metrics port that is taken stops the gateway, as its API port would.
func TestMetricsPortInUseStopsGateway(t *testing.T) {
	gin.SetMode(gin.TestMode)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := gwconfig.Config{Common: config.Common{
		HTTPAddr: freeAddr(t), AppVersion: "test-1", KafkaEnabled: false, ShutdownTimeout: 5 * time.Second,
	}, MetricsAddr: taken.Addr().String()}
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), cfg, zap.NewNop(), SampleEndpoints) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "listen") {
			t.Fatalf("Run = %v, want a listen error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("gateway kept running without its metrics server")
	}
}

// blockedCloser is a producer whose Close waits for publishes that never end.
type blockedCloser struct{ release chan struct{} }

func (c blockedCloser) Close() error {
	<-c.release
	return nil
}

// Closing the producer waits for running publishes only until the shutdown deadline.
func TestCloseByGivesUpAtTheDeadline(t *testing.T) {
	producer := blockedCloser{release: make(chan struct{})}
	defer close(producer.release)
	core, logs := observer.New(zap.WarnLevel)
	began := time.Now()
	if err := closeBy(producer, began.Add(100*time.Millisecond), zap.New(core)); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(began); waited < 100*time.Millisecond || waited > 2*time.Second {
		t.Errorf("closeBy returned after %v, want about 100ms", waited)
	}
	if logs.FilterMessage("stopped waiting for publishes still in flight: the shutdown time is up").Len() != 1 {
		t.Errorf("no warning that publishes were left: %v", logs.All())
	}
	quick := blockedCloser{release: make(chan struct{})}
	close(quick.release)
	if err := closeBy(quick, time.Now().Add(time.Minute), zap.New(core)); err != nil {
		t.Fatal(err)
	}
}
