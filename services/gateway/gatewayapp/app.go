// Package gatewayapp runs a gateway: HTTP server, Kafka producer, reply readers,
// readiness, metrics and tracing, started and stopped in the right order, around the
// endpoints a service registers. The streamgate gateway is Main(SampleEndpoints); a
// service of one's own is Main with its endpoints (examples/orders/cmd/orders-gateway).
package gatewayapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/messages/asyncapi"
	"github.com/streamgate/streamgate/pkg/platform/httpserver"
	platformmetrics "github.com/streamgate/streamgate/pkg/platform/metrics"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/service"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/config"
	"github.com/streamgate/streamgate/services/gateway/internal/api"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

// Deps is what a service's endpoints are built from.
type Deps struct {
	// Kit publishes and requests: gatewaykit.NewPublisher, gatewaykit.NewRequester.
	Kit    *gatewaykit.Kit
	Logger *zap.Logger
	Config config.Config
}

// Endpoints registers a service's HTTP routes on api, behind the gateway's middleware
// (correlation ID, metrics, tracing, access log, panic recovery), beside its probes and
// documents. It runs once, before the server starts; an error stops the start-up.
type Endpoints func(api gin.IRouter, deps Deps) error

// SampleEndpoints are the streamgate gateway's: GET /v1/ping and POST /v1/requests,
// the Python original's ping flow on IN_TOPIC, with their OpenAPI and AsyncAPI
// documents (a service registering its own endpoints serves its own documents, if any).
func SampleEndpoints(r gin.IRouter, deps Deps) error {
	asyncAPI, err := asyncapi.Document()
	if err != nil {
		return err
	}
	sample := api.Sample{Logger: deps.Logger, Version: deps.Config.AppVersion, InTopic: deps.Config.InTopic, Now: time.Now, AsyncAPI: asyncAPI}
	return sample.Endpoints(deps.Kit)(r)
}

// Main runs a gateway serving endpoints, configured from the environment, until
// SIGTERM or SIGINT, and exits the process with its outcome.
func Main(endpoints Endpoints) {
	gin.SetMode(gin.ReleaseMode)
	cfg, err := config.Load()
	if err == nil {
		err = service.Run("gateway", cfg.Common, func(ctx context.Context, log *zap.Logger) error {
			return Run(ctx, cfg, log, endpoints)
		})
	}
	service.Exit("gateway", err)
}

// Run serves until ctx is done, then shuts down gracefully: /readyz turns 503, in-flight
// requests get cfg.ShutdownTimeout to finish, then the producer flushes and closes, all
// within cfg.ShutdownTimeout of ctx's end. In Kubernetes the chart's preStop sleep is
// what keeps the listener open while endpoints drop the pod.
func Run(ctx context.Context, cfg config.Config, logger *zap.Logger, endpoints Endpoints) error {
	return runner{cfg: cfg, logger: logger, endpoints: endpoints, getenv: os.LookupEnv}.run(ctx)
}

// runner is Run's arguments, with the environment tracing reads and a hook that learns
// the metrics server's address.
type runner struct {
	cfg              config.Config
	logger           *zap.Logger
	endpoints        Endpoints
	getenv           func(string) (string, bool)
	metricsListening func(net.Addr)
}

func (r runner) run(ctx context.Context) error {
	cfg, logger := r.cfg, r.logger
	m, err := metrics.New(cfg.AppVersion)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	tr, err := tracing.Setup(ctx, tracing.Options{Service: "gateway", Version: cfg.AppVersion, Getenv: r.getenv, Log: logger})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	readiness := &probe.Readiness{Changed: probe.LogChanges(logger)}

	kc, err := newKafkaClients(cfg, logger, m, tr)
	if err != nil {
		return errors.Join(err, tr.Shutdown(context.WithoutCancel(ctx)))
	}
	kit := gatewaykit.NewKit(kc.sender, kc.replyReaders)
	router, err := api.NewRouter(api.Deps{
		Logger: logger, Readiness: readiness, Metrics: m, Tracing: tr,
		AccessLogAll: cfg.AccessLog == config.AccessLogAll, TrustIncomingTraceContext: cfg.TrustIncomingTraceContext,
		MaxInFlight: cfg.MaxInFlightRequests,
		Endpoints: func(api gin.IRouter) error {
			return r.endpoints(api, Deps{Kit: kit, Logger: logger, Config: cfg})
		},
	})
	if err != nil {
		return errors.Join(fmt.Errorf("gateway: %w", err), tr.Shutdown(context.WithoutCancel(ctx)))
	}

	// A metrics server that cannot start stops the gateway like its API server would.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var metricsErr error // read after workers.Wait

	context.AfterFunc(ctx, readiness.Drain)
	// SHUTDOWN_TIMEOUT bounds the whole stop, from the moment ctx ends.
	stopBy := make(chan time.Time, 1)
	context.AfterFunc(ctx, func() { stopBy <- time.Now().Add(cfg.ShutdownTimeout) })

	// Background work (connecting, readiness checks) outlives ctx until the server has
	// drained, so in-flight requests still find a producer.
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var workers sync.WaitGroup

	// The metrics server outlives the API server, so the drain can be watched.
	workers.Go(func() {
		if metricsErr = platformmetrics.Serve(background, cfg.MetricsAddr, m.Registry, logger, r.metricsListening, platformmetrics.WithReadiness(readiness)); metricsErr != nil {
			stop()
		}
	})

	if cfg.KafkaEnabled {
		kc.producer.CheckTopics = kit.Topics()
		kc.start(background, &workers, readiness, m.Registry.KafkaConnected)
	} else {
		logger.Warn("Kafka is disabled (KAFKA_ENABLED=false): endpoints answer without publishing; request/reply answers 503")
		readiness.Set(nil)
	}

	logger.Info("starting gateway",
		zap.Bool("kafka_enabled", cfg.KafkaEnabled),
		zap.Strings("brokers", cfg.KafkaBrokers),
		zap.Strings("topics", kit.Topics()),
		zap.Strings("reply_topics", kc.replyTopics()),
		zap.String("metrics_addr", cfg.MetricsAddr),
		zap.Bool("tracing", tr.Enabled()),
		zap.String("access_log", cfg.AccessLog),
	)
	// Connections cost memory before their request reaches the in-flight bound: twice
	// that bound leaves room for kept-alive ones (docs/hardening.md).
	serveErr := httpserver.Run(ctx, httpserver.New(cfg.HTTPAddr, router), cfg.ShutdownTimeout, func(addr net.Addr) {
		logger.Info("listening", zap.String("addr", addr.String()))
	}, httpserver.MaxConnections(2*cfg.MaxInFlightRequests))

	stopBackground()
	workers.Wait()
	stop() // when the API server failed rather than ctx ended
	deadline := <-stopBy
	var closeErr error
	if kc.producer != nil {
		if closeErr = closeBy(kc.producer, deadline, logger); closeErr != nil {
			closeErr = fmt.Errorf("gateway: close producer: %w", closeErr)
		}
	}
	flushCtx, cancelFlush := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancelFlush()
	if err := errors.Join(metricsErr, serveErr, closeErr, tr.Shutdown(flushCtx)); err != nil {
		return err
	}
	logger.Info("gateway stopped")
	return nil
}

// closeBy closes the producer, waiting for publishes still running until deadline: a
// broker failing over can hold one for the producer's whole delivery window (up to 21s),
// longer than SHUTDOWN_TIMEOUT, and the pod's grace period is sized for the latter.
// Past the deadline the process exits without them: their HTTP requests were abandoned
// by the server's shutdown, and the idempotent producer wrote each record once or not
// at all. The goroutine left closing ends with the process, which is exiting.
func closeBy(producer io.Closer, deadline time.Time, logger *zap.Logger) error {
	closed := make(chan error, 1)
	go func() { closed <- producer.Close() }()
	err, ok := service.Await(closed, deadline)
	if !ok {
		logger.Warn("stopped waiting for publishes still in flight: the shutdown time is up")
	}
	return err
}
