// Package workerapp runs a *router.Router as a service: settings from the environment,
// the Kafka consumer group and producer (with their security), probes, the metrics
// server, telemetry, and a graceful stop within SHUTDOWN_TIMEOUT. A worker's main is
// one call of Main with a function that registers its routes (docs/handlers.md).
package workerapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/httpserver"
	"github.com/streamgate/streamgate/pkg/platform/metrics"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/service"
	"github.com/streamgate/streamgate/pkg/router"
)

// probeShutdownTimeout bounds the probe server's own graceful stop; probes are quick
// and are retried by the kubelet.
const probeShutdownTimeout = time.Second

// Register adds a service's routes to the router the worker runs; cfg is the worker's
// configuration, for the main route's topics.
type Register func(r *router.Router, cfg Config) error

// Main runs a worker with the routes register adds, configured from the environment,
// until SIGTERM or SIGINT, and exits the process with its outcome.
//
//	func main() { workerapp.Main(ping.Register) }
func Main(register Register) {
	cfg, err := Load()
	if err == nil {
		err = service.Run("worker", cfg.Common, func(ctx context.Context, log *zap.Logger) error {
			return Run(ctx, cfg, log, register)
		})
	}
	service.Exit("worker", err)
}

// Run runs the worker until ctx is done, then stops gracefully: /readyz turns 503, the
// claims stop fetching, finish and commit what they hold, the worker leaves the group,
// the producer closes and the probe server stops. If that takes longer than
// cfg.ShutdownTimeout, Run returns an error without waiting further; the process is
// expected to exit then.
func Run(ctx context.Context, cfg Config, logger *zap.Logger, register Register) error {
	return runner{cfg: cfg, logger: logger, register: register, getenv: os.LookupEnv}.run(ctx)
}

// runner is Run's arguments, with the environment tracing reads and hooks that learn the
// probe and metrics servers' addresses.
type runner struct {
	cfg              Config
	logger           *zap.Logger
	register         Register
	getenv           func(string) (string, bool)
	probesListening  func(net.Addr)
	metricsListening func(net.Addr)
}

func (rn runner) run(ctx context.Context) error {
	cfg, log := rn.cfg, rn.logger
	tel, err := newTelemetry(ctx, cfg, rn.getenv, log)
	if err != nil {
		return err
	}
	ready := &probe.Readiness{Changed: probe.LogChanges(log)}
	ready.Set(router.ErrNoSession)
	r := router.New(router.Config{
		Log: log, Metrics: tel.metrics, Tracing: tel.tracing, GroupID: cfg.GroupID, Ready: ready,
		// A claim's final wait must fit in the shutdown budget.
		DrainTimeout:           min(router.DefaultDrainTimeout, cfg.ShutdownTimeout/2),
		StuckThreshold:         cfg.StuckThreshold,
		PartitionsAtFullBounds: cfg.PartitionsAtFullBounds,
	})
	if err := rn.register(r, cfg); err != nil {
		return errors.Join(fmt.Errorf("worker: routes: %w", err), tel.flush(ctx, time.Second))
	}
	log.Info("starting worker",
		zap.Bool("kafka_enabled", cfg.KafkaEnabled),
		zap.Strings("brokers", cfg.KafkaBrokers),
		zap.Strings("topics", r.Topics()),
		zap.Strings("output_topics", r.OutputTopics()),
		zap.String("group_id", cfg.GroupID),
		zap.Duration("shutdown_timeout", cfg.ShutdownTimeout),
		zap.String("metrics_addr", cfg.MetricsAddr),
		zap.Duration("stuck_partition_threshold", cfg.StuckThreshold),
		zap.String("delivery", cfg.Delivery.Mode),
		zap.Bool("tracing", tel.tracing.Enabled()))

	// The probe and metrics servers outlive the work, so /readyz answers 503 and the
	// metrics stay visible while the worker drains.
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	served := make(chan error, 1)
	go func() { served <- rn.serveEndpoints(serveCtx, ready, tel) }()

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	worked := make(chan error, 1)
	go func() { worked <- rn.work(workCtx, ready, r) }()

	select {
	case <-ctx.Done():
		log.Info("shutting down", zap.Duration("timeout", cfg.ShutdownTimeout))
	case err = <-served:
		served = nil
		log.Error("probe or metrics server failed; shutting down", zap.Error(err))
	case err = <-worked:
		worked = nil
		if err != nil {
			log.Error("worker failed; shutting down", zap.Error(err))
		}
	}
	ready.Drain()
	stopWork()

	// SHUTDOWN_TIMEOUT bounds the whole stop, from here.
	stopBy := time.Now().Add(cfg.ShutdownTimeout)
	timedOut := fmt.Errorf("worker: graceful shutdown took longer than %s", cfg.ShutdownTimeout)
	if worked != nil {
		werr, ok := service.Await(worked, stopBy)
		if !ok {
			return errors.Join(err, timedOut)
		}
		err = errors.Join(err, werr)
	}
	stopServing()
	if served != nil {
		serr, ok := service.Await(served, stopBy)
		if !ok {
			return errors.Join(err, timedOut)
		}
		err = errors.Join(err, serr)
	}
	// The trace flush gets what is left of the budget: the whole stop stays within it.
	err = errors.Join(err, tel.flush(ctx, time.Until(stopBy)))
	if err == nil {
		log.Info("worker stopped")
	}
	return err
}

// serveEndpoints runs the probe and the metrics server until ctx is done or one of them
// fails, which stops the other.
func (rn runner) serveEndpoints(ctx context.Context, ready *probe.Readiness, tel telemetry) error {
	cfg, log := rn.cfg, rn.logger
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var servers sync.WaitGroup
	var probeErr, metricsErr error
	servers.Go(func() {
		defer stop()
		srv := httpserver.New(cfg.HTTPAddr, probes(ready))
		probeErr = httpserver.Run(ctx, srv, probeShutdownTimeout, func(addr net.Addr) {
			log.Info("probes listening", zap.String("addr", addr.String()))
			if rn.probesListening != nil {
				rn.probesListening(addr)
			}
		})
	})
	servers.Go(func() {
		defer stop()
		metricsErr = metrics.Serve(ctx, cfg.MetricsAddr, tel.metrics.Registry, log, rn.metricsListening, metrics.WithReadiness(ready))
	})
	servers.Wait()
	return errors.Join(probeErr, metricsErr)
}

// work consumes until ctx is done, or, with Kafka disabled, just waits for it.
func (rn runner) work(ctx context.Context, ready *probe.Readiness, r *router.Router) error {
	if !rn.cfg.KafkaEnabled {
		rn.logger.Warn("Kafka is disabled (KAFKA_ENABLED=false): nothing will be consumed")
		ready.Set(nil)
		<-ctx.Done()
		return nil
	}
	rn.cfg.KafkaSecurity.Log(rn.logger)
	return consumer{cfg: rn.cfg, log: rn.logger, ready: ready, router: r}.consume(ctx)
}
