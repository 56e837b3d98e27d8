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
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/httpserver"
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
	return run(ctx, cfg, log, nil)
}

// run is Run with a hook that learns the probe server's address.
func run(ctx context.Context, cfg config.Config, log *zap.Logger, listening func(net.Addr)) error {
	log.Info("starting worker",
		zap.Bool("kafka_enabled", cfg.KafkaEnabled),
		zap.Strings("brokers", cfg.KafkaBrokers),
		zap.String("in_topic", cfg.InTopic),
		zap.String("out_topic", cfg.OutTopic),
		zap.String("dlq_topic", cfg.DLQTopic),
		zap.String("group_id", cfg.GroupID),
		zap.Duration("shutdown_timeout", cfg.ShutdownTimeout))

	ready := &probe.Readiness{}
	ready.Set(consumer.ErrNoSession)

	// The probe server outlives the work, so /readyz answers 503 while the worker drains.
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	served := make(chan error, 1)
	go func() {
		srv := httpserver.New(cfg.HTTPAddr, probes(ready))
		served <- httpserver.Run(serveCtx, srv, probeShutdownTimeout, func(addr net.Addr) {
			log.Info("probes listening", zap.String("addr", addr.String()))
			if listening != nil {
				listening(addr)
			}
		})
	}()

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	worked := make(chan error, 1)
	go func() { worked <- work(workCtx, cfg, log, ready) }()

	var err error
	select {
	case <-ctx.Done():
		log.Info("shutting down", zap.Duration("timeout", cfg.ShutdownTimeout))
	case err = <-served:
		served = nil
		log.Error("probe server failed; shutting down", zap.Error(err))
	case err = <-worked:
		worked = nil
		if err != nil {
			log.Error("worker failed; shutting down", zap.Error(err))
		}
	}
	ready.Drain()
	stopWork()

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
	if err == nil {
		log.Info("worker stopped")
	}
	return err
}

// work consumes until ctx is done, or, with Kafka disabled, just waits for it.
func work(ctx context.Context, cfg config.Config, log *zap.Logger, ready *probe.Readiness) error {
	if !cfg.KafkaEnabled {
		log.Warn("Kafka is disabled (KAFKA_ENABLED=false): nothing will be consumed")
		ready.Set(nil)
		<-ctx.Done()
		return nil
	}
	cfg.KafkaSecurity.Log(log)
	return consume(ctx, cfg, log, ready)
}
