package middleware

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
)

// Beyond the limit a request is answered 503 with Retry-After at once; a slot freed
// by a finished request is used again.
func TestInFlightBound(t *testing.T) {
	gin.SetMode(gin.TestMode)
	const limit = 3
	release := make(chan struct{})
	entered := make(chan struct{}, limit)
	router := gin.New()
	router.Use(InFlight(limit))
	router.GET("/wait", func(c *gin.Context) {
		entered <- struct{}{}
		<-release
		c.Status(http.StatusOK)
	})
	serve := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		router.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/wait", nil))
		return w
	}

	var wg sync.WaitGroup
	codes := make(chan int, limit)
	for range limit {
		wg.Go(func() { codes <- serve().Code })
	}
	for range limit {
		<-entered
	}
	for range 2 * limit {
		w := serve()
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
			t.Fatalf("beyond the limit: %d, Retry-After %q; want 503 and 1", w.Code, w.Header().Get("Retry-After"))
		}
	}
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Errorf("a request within the limit got %d", code)
		}
	}
	if w := serve(); w.Code != http.StatusOK {
		t.Errorf("after the others finished: %d, want 200", w.Code)
	}
}
