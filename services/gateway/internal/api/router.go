// Package api is the gateway's HTTP surface: routes, handlers and their JSON shapes.
package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/internal/middleware"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

// Deps is what the router needs.
type Deps struct {
	Logger    *zap.Logger
	Readiness *probe.Readiness
	Metrics   *metrics.Metrics // nil: no HTTP metrics (the benchmark's baseline)
	Tracing   *tracing.Tracing
	// Endpoints registers the service's own routes (the sample flow's, or a service's
	// made with gatewayapp), behind every middleware.
	Endpoints func(gin.IRouter) error
	// AccessLogAll logs every request at info level, not only the unsuccessful ones.
	AccessLogAll bool
	// TrustIncomingTraceContext keeps the client's traceparent, tracestate and baggage.
	TrustIncomingTraceContext bool
	// MaxInFlight bounds the requests to Endpoints served at once (middleware.InFlight);
	// 0: no bound.
	MaxInFlight int
}

// NewRouter returns the gateway's gin engine with every route and middleware.
func NewRouter(deps Deps) (*gin.Engine, error) {
	router := gin.New()
	router.HandleMethodNotAllowed = true
	// No proxy is trusted by default; a deployment behind one configures it explicitly.
	_ = router.SetTrustedProxies(nil)

	// The probes are neither counted nor traced, and logged only at debug: they would
	// only bury the requests that matter.
	probes := []string{"/healthz", "/readyz"}
	if deps.Metrics != nil {
		router.Use(middleware.Metrics(deps.Metrics.HTTPRequests, deps.Metrics.HTTPRequestDuration, probes...))
	}
	if !deps.TrustIncomingTraceContext {
		router.Use(middleware.DropTraceContext())
	}
	router.Use(
		middleware.Correlation(),
		middleware.Tracing(deps.Tracing, probes...),
		middleware.AccessLog(deps.Logger, deps.AccessLogAll, probes...),
		middleware.Recovery(deps.Logger),
	)
	router.NoRoute(jsonError(http.StatusNotFound, "Not Found"))
	router.NoMethod(jsonError(http.StatusMethodNotAllowed, "Method Not Allowed"))

	router.GET("/healthz", gin.WrapF(probe.Healthz))
	router.GET("/readyz", gin.WrapH(deps.Readiness))

	// The service's routes share one bound on requests in flight.
	endpoints := router.Group("")
	if deps.MaxInFlight > 0 {
		endpoints.Use(middleware.InFlight(deps.MaxInFlight))
	}
	if deps.Endpoints != nil {
		if err := deps.Endpoints(endpoints); err != nil {
			return nil, fmt.Errorf("api: register endpoints: %w", err)
		}
	}
	return router, nil
}

// jsonError answers with FastAPI's error shape, {"detail": "..."}.
func jsonError(status int, detail string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.AbortWithStatusJSON(status, gin.H{"detail": detail})
	}
}
