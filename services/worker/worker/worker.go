// Package worker runs the streamgate worker: the consumer group that answers requests,
// the producer for replies and dead letters, and the probe server, started and stopped
// in order.
//
// It is exported, unlike the packages it wires, so that benchmarks outside this module
// can run the real worker in-process.
package worker

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
	"github.com/streamgate/streamgate/services/worker/config"
	"github.com/streamgate/streamgate/services/worker/internal/consumer"
)

// probeShutdownTimeout bounds the probe server's own graceful stop; probes are quick
// and are retried by the kubelet.
const probeShutdownTimeout = time.Second

// Run runs the worker until ctx is done, then stops gracefully: /readyz turns 503, the
// claims stop fetching, finish and commit what they hold, the worker leaves the group,
// the producer closes and the probe server stops. If that takes longer than
// cfg.ShutdownTimeout, Run returns an error without waiting further; the process is
// expected to exit then.
func Run(ctx context.Context, cfg config.Config, log *zap.Logger) error {
	return run(ctx, cfg, log, hooks{getenv: os.LookupEnv})
}

// hooks let tests learn the servers' addresses and set the environment tracing reads.
type hooks struct {
	getenv           func(string) (string, bool)
	listening        func(net.Addr) // the probe server's
	metricsListening func(net.Addr)
}

// run is Run with hooks.
func run(ctx context.Context, cfg config.Config, log *zap.Logger, hk hooks) error {
	tel, err := newTelemetry(ctx, cfg, hk.getenv, log)
	if err != nil {
		return err
	}
	log.Info("starting worker",
		zap.Bool("kafka_enabled", cfg.KafkaEnabled),
		zap.Strings("brokers", cfg.KafkaBrokers),
		zap.String("in_topic", cfg.InTopic),
		zap.String("out_topic", cfg.OutTopic),
		zap.String("dlq_topic", cfg.DLQTopic),
		zap.String("group_id", cfg.GroupID),
		zap.Duration("shutdown_timeout", cfg.ShutdownTimeout),
		zap.String("metrics_addr", cfg.MetricsAddr),
		zap.Duration("stuck_partition_threshold", cfg.StuckThreshold),
		zap.String("delivery", cfg.Delivery),
		zap.Bool("tracing", tel.tracing.Enabled()))

	ready := &probe.Readiness{Changed: probe.LogChanges(log)}
	ready.Set(consumer.ErrNoSession)

	// The probe and metrics servers outlive the work, so /readyz answers 503 and the
	// metrics stay visible while the worker drains.
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	served := make(chan error, 1)
	go func() { served <- serveEndpoints(serveCtx, cfg, log, ready, tel, hk) }()

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	worked := make(chan error, 1)
	go func() { worked <- work(workCtx, cfg, log, ready, tel) }()

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

	stopBy := time.Now().Add(cfg.ShutdownTimeout)
	deadline := time.NewTimer(cfg.ShutdownTimeout)
	defer deadline.Stop()
	timedOut := fmt.Errorf("worker: graceful shutdown took longer than %s", cfg.ShutdownTimeout)
	if worked != nil {
		select {
		case werr := <-worked:
			err = errors.Join(err, werr)
		case <-deadline.C:
			return errors.Join(err, timedOut)
		}
	}
	stopServing()
	if served != nil {
		select {
		case serr := <-served:
			err = errors.Join(err, serr)
		case <-deadline.C:
			return errors.Join(err, timedOut)
		}
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
func serveEndpoints(ctx context.Context, cfg config.Config, log *zap.Logger, ready *probe.Readiness, tel telemetry, hk hooks) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var servers sync.WaitGroup
	var probeErr, metricsErr error
	servers.Go(func() {
		defer stop()
		srv := httpserver.New(cfg.HTTPAddr, probes(ready))
		probeErr = httpserver.Run(ctx, srv, probeShutdownTimeout, func(addr net.Addr) {
			log.Info("probes listening", zap.String("addr", addr.String()))
			if hk.listening != nil {
				hk.listening(addr)
			}
		})
	})
	servers.Go(func() {
		defer stop()
		metricsErr = metrics.Serve(ctx, cfg.MetricsAddr, tel.metrics.Registry, log, hk.metricsListening, metrics.WithReadiness(ready))
	})
	servers.Wait()
	return errors.Join(probeErr, metricsErr)
}

// work consumes until ctx is done, or, with Kafka disabled, just waits for it.
func work(ctx context.Context, cfg config.Config, log *zap.Logger, ready *probe.Readiness, tel telemetry) error {
	if !cfg.KafkaEnabled {
		log.Warn("Kafka is disabled (KAFKA_ENABLED=false): nothing will be consumed")
		ready.Set(nil)
		<-ctx.Done()
		return nil
	}
	cfg.KafkaSecurity.Log(log)
	return consume(ctx, cfg, log, ready, tel)
}
