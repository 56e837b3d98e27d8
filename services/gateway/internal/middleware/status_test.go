package middleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// A client that leaves before its answer is logged and counted as 499, not gin's
// default 200; a 900 KB path is logged cut to about a kilobyte.
func TestClientGoneIs499AndLongPathsAreCut(t *testing.T) {
	gin.SetMode(gin.TestMode)
	core, logs := observer.New(zap.DebugLevel)
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests"}, []string{"route", "method", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "duration"}, []string{"route", "method"})
	router := gin.New()
	router.Use(Metrics(requests, duration), AccessLog(zap.New(core), false))
	router.GET("/wait", func(c *gin.Context) {
		<-c.Request.Context().Done()
		c.Abort() // as the request handler does when the client is gone
	})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	router.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/wait", nil).WithContext(ctx))
	if n := testutil.ToFloat64(requests.WithLabelValues("/wait", "GET", "499")); n != 1 {
		t.Errorf("requests{status=499} = %v, want 1", n)
	}
	if lines := logs.FilterField(zap.Int("status", 499)).Len(); lines != 1 {
		t.Errorf("%d access-log lines with status 499, want 1", lines)
	}

	router.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/"+strings.Repeat("a", 900_000), nil))
	notFound := logs.FilterField(zap.Int("status", http.StatusNotFound)).All()
	if len(notFound) != 1 {
		t.Fatalf("%d access-log lines for the 404, want 1", len(notFound))
	}
	for _, line := range notFound {
		if path := line.ContextMap()["path"].(string); len(path) > 2048 {
			t.Errorf("a 900 KB path was logged as %d bytes", len(path))
		}
	}
}
