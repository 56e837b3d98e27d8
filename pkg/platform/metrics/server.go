package metrics

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/httpserver"
	"github.com/streamgate/streamgate/pkg/platform/probe"
)

// Path is where the metrics are served.
const Path = "/metrics"

// Disabled is the METRICS_ADDR value that turns the metrics server off.
const Disabled = "off"

// shutdownTimeout bounds the metrics server's graceful stop; a scrape that is cut off
// is simply retried by Prometheus.
const shutdownTimeout = time.Second

// Option adds a private endpoint to the metrics server.
type Option func(*http.ServeMux)

// WithReadiness serves r's reasons on probe.ReasonsPath: the public /readyz says only
// ready or not, the private metrics port says why.
func WithReadiness(r *probe.Readiness) Option {
	return func(mux *http.ServeMux) { mux.Handle(probe.ReasonsPath, r.Reasons()) }
}

// Handler serves the registry's metrics on Path, what opts add, and a JSON 404 anywhere
// else.
func Handler(g prometheus.Gatherer, opts ...Option) http.Handler {
	mux := http.NewServeMux()
	for _, opt := range opts {
		opt(mux)
	}
	mux.Handle(Path, promhttp.HandlerFor(g, promhttp.HandlerOpts{
		// A collector that fails still leaves the others scraped.
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("/", probe.NotFound)
	return mux
}

// Serve serves g on addr until ctx is done; with addr Disabled it only waits for ctx.
// listening, if not nil, learns the bound address.
func Serve(ctx context.Context, addr string, g prometheus.Gatherer, log *zap.Logger, listening func(net.Addr), opts ...Option) error {
	if addr == Disabled {
		log.Info("metrics server disabled (METRICS_ADDR=off)")
		<-ctx.Done()
		return nil
	}
	return httpserver.Run(ctx, httpserver.New(addr, Handler(g, opts...)), shutdownTimeout, func(a net.Addr) {
		log.Info("metrics listening", zap.String("addr", a.String()), zap.String("path", Path))
		if listening != nil {
			listening(a)
		}
	})
}
