package middleware

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute labels requests no route matched, so that scanning for paths cannot
// create a series per path.
const unmatchedRoute = "unmatched"

// otherMethod labels methods outside the standard set, for the same reason.
const otherMethod = "OTHER"

var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodConnect: true,
	http.MethodOptions: true, http.MethodTrace: true,
}

// Metrics counts every request by route template, method and status code, and
// observes its duration by route and method, except for paths in uncounted (the
// probes: a starting pod's 503s from /readyz are not errors of the service). It runs
// first, so it measures the time every other middleware takes too.
func Metrics(requests *prometheus.CounterVec, duration *prometheus.HistogramVec, uncounted ...string) gin.HandlerFunc {
	skip := pathSet(uncounted)
	return func(c *gin.Context) {
		if skip[c.Request.URL.Path] {
			c.Next()
			return
		}
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		method := c.Request.Method
		if !knownMethods[method] {
			method = otherMethod
		}
		requests.WithLabelValues(route, method, strconv.Itoa(answeredStatus(c))).Inc()
		duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	}
}
