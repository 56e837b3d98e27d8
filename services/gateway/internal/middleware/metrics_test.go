package middleware

import (
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Requests are counted by route template, not path, and by a bounded set of
// methods, so a client cannot create a series per URL or per made-up method.
func TestMetricsLabelsAreBounded(t *testing.T) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests"}, []string{"route", "method", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "duration"}, []string{"route", "method"})
	r := newRouter(Metrics(requests, duration))
	r.GET("/items/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.POST("/items/:id", func(c *gin.Context) { c.Status(http.StatusAccepted) })

	for _, path := range []string{"/items/1", "/items/2", "/items/3"} {
		serve(t, r, http.MethodGet, path)
	}
	serve(t, r, http.MethodPost, "/items/1")
	for _, path := range []string{"/a", "/b", "/c/d"} {
		serve(t, r, http.MethodGet, path)
	}
	serve(t, r, "BREW", "/items/1")

	for _, tc := range []struct {
		route, method, status string
		want                  float64
	}{
		{"/items/:id", "GET", "200", 3},
		{"/items/:id", "POST", "202", 1},
		{unmatchedRoute, "GET", "404", 3},
		{unmatchedRoute, otherMethod, "404", 1},
	} {
		if got := testutil.ToFloat64(requests.WithLabelValues(tc.route, tc.method, tc.status)); got != tc.want {
			t.Errorf("requests{route=%q,method=%q,status=%q} = %v, want %v", tc.route, tc.method, tc.status, got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(requests); n != 4 {
		t.Errorf("%d request series, want 4", n)
	}
	if n := testutil.CollectAndCount(duration); n != 4 {
		t.Errorf("%d duration series, want 4 (route and method, as the requests)", n)
	}
}

// The duration includes what the handler and later middleware take.
func TestMetricsObservesDuration(t *testing.T) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests"}, []string{"route", "method", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "duration", Buckets: []float64{0.01, 1}}, []string{"route", "method"})
	r := newRouter(Metrics(requests, duration))
	r.GET("/slow", func(c *gin.Context) {
		time.Sleep(20 * time.Millisecond)
		c.Status(http.StatusOK)
	})
	serve(t, r, http.MethodGet, "/slow")
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(duration)
	families, err := reg.Gather()
	if err != nil || len(families) != 1 || len(families[0].GetMetric()) != 1 {
		t.Fatalf("gathered %v (%v), want one duration series", families, err)
	}
	h := families[0].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 1 || h.GetBucket()[0].GetCumulativeCount() != 0 || h.GetSampleSum() < 0.02 {
		t.Fatalf("histogram count %d, le=0.01 %d, sum %v; want one sample of at least 20 ms",
			h.GetSampleCount(), h.GetBucket()[0].GetCumulativeCount(), h.GetSampleSum())
	}
}

// The probes are not counted: a starting pod answers /readyz 503 until Kafka is up,
// which is no error of the service.
func TestMetricsLeaveProbesOut(t *testing.T) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests"}, []string{"route", "method", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "duration"}, []string{"route", "method"})
	r := newRouter(Metrics(requests, duration, "/readyz"))
	r.GET("/readyz", func(c *gin.Context) { c.Status(http.StatusServiceUnavailable) })
	r.GET("/v1/ping", func(c *gin.Context) { c.Status(http.StatusOK) })
	serve(t, r, http.MethodGet, "/readyz")
	serve(t, r, http.MethodGet, "/v1/ping")
	if n := testutil.CollectAndCount(requests); n != 1 || testutil.ToFloat64(requests.WithLabelValues("/v1/ping", "GET", "200")) != 1 {
		t.Errorf("%d request series, want only /v1/ping's", n)
	}
	if n := testutil.CollectAndCount(duration); n != 1 {
		t.Errorf("%d duration series, want only /v1/ping's", n)
	}
}
