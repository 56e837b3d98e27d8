// Package api is the gateway's HTTP surface: routes, handlers and their JSON shapes.
package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/internal/docs"
	"github.com/streamgate/streamgate/services/gateway/internal/middleware"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

// Publisher hands a request to the worker; it returns only once the broker has
// acknowledged the record, or with the reason it could not.
type Publisher interface {
	Publish(ctx context.Context, msg messages.SampleReqMsg) error
}

// Deps is what the routes need.
type Deps struct {
	Logger    *zap.Logger
	Publisher Publisher
	Readiness *probe.Readiness
	Version   string
	Topic     string           // where Publisher writes, for log lines
	Metrics   *metrics.Metrics // nil: no HTTP metrics (the benchmark's baseline)
	Tracing   *tracing.Tracing
	AsyncAPI  []byte // the AsyncAPI document served at /asyncapi.json
	// Replies enables POST /v1/requests; nil (Kafka disabled) answers it 503.
	Replies *ReplyRouting
	// AccessLogAll logs every request at info level, not only the unsuccessful ones.
	AccessLogAll bool
	// TrustIncomingTraceContext keeps the client's traceparent, tracestate and baggage.
	TrustIncomingTraceContext bool
	// MaxInFlight bounds the publishing requests served at once (middleware.InFlight);
	// 0: no bound.
	MaxInFlight int
	// Now stamps messages; tests pin it.
	Now func() time.Time
}

// NewRouter returns the gateway's gin engine with every route and middleware.
func NewRouter(deps Deps) *gin.Engine {
	router := gin.New()
	router.HandleMethodNotAllowed = true
	// No proxy is trusted by default; a deployment behind one configures it explicitly.
	_ = router.SetTrustedProxies(nil)

	if deps.Metrics != nil {
		router.Use(middleware.Metrics(deps.Metrics.HTTPRequests, deps.Metrics.HTTPRequestDuration))
	}
	if !deps.TrustIncomingTraceContext {
		router.Use(middleware.DropTraceContext())
	}
	router.Use(
		middleware.Correlation(),
		middleware.Tracing(deps.Tracing, "/healthz", "/readyz"),
		middleware.AccessLog(deps.Logger, deps.AccessLogAll, "/healthz", "/readyz"),
		middleware.Recovery(deps.Logger),
	)
	router.NoRoute(jsonError(http.StatusNotFound, "Not Found"))
	router.NoMethod(jsonError(http.StatusMethodNotAllowed, "Method Not Allowed"))

	router.GET("/healthz", gin.WrapF(probe.Healthz))
	router.GET("/readyz", gin.WrapH(deps.Readiness))

	docs.Register(router, deps.AsyncAPI)

	// The routes that publish share one bound on requests in flight.
	publishing := router.Group("")
	if deps.MaxInFlight > 0 {
		publishing.Use(middleware.InFlight(deps.MaxInFlight))
	}
	ping := newPingHandler(deps)
	publishing.GET("/v1/ping", ping.serve)
	requests := requestHandler{logger: deps.Logger, routing: deps.Replies, topic: deps.Topic, now: deps.Now}
	publishing.POST("/v1/requests", requests.serve)
	return router
}

// jsonError answers with FastAPI's error shape, {"detail": "..."}.
func jsonError(status int, detail string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.AbortWithStatusJSON(status, gin.H{"detail": detail})
	}
}
