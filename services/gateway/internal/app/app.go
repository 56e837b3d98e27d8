// Package app runs the gateway: HTTP server, Kafka publisher, reply consumer, readiness,
// metrics and tracing, started and stopped in the right order.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/messages/asyncapi"
	"github.com/streamgate/streamgate/pkg/platform/httpserver"
	platformmetrics "github.com/streamgate/streamgate/pkg/platform/metrics"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/config"
	"github.com/streamgate/streamgate/services/gateway/internal/api"
	"github.com/streamgate/streamgate/services/gateway/internal/grouplag"
	"github.com/streamgate/streamgate/services/gateway/internal/publisher"
	"github.com/streamgate/streamgate/services/gateway/internal/replies"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

// readinessInterval is how often readiness asks Kafka; a stopped broker turns /readyz
// to 503 within about this long.
const readinessInterval = 2 * time.Second

// lagReadTimeout bounds one reading of the worker group's offsets from the broker.
const lagReadTimeout = 3 * time.Second

// maxWaitingReplies bounds the POST /v1/requests waiting for their reply at once; more
// are answered 503 at once rather than piling up.
const maxWaitingReplies = 1024

// Run serves until ctx is done, then shuts down gracefully: /readyz turns 503, in-flight
// requests get cfg.ShutdownTimeout to finish, then the producer flushes and closes, all
// within cfg.ShutdownTimeout of ctx's end. In Kubernetes the chart's preStop sleep is
// what keeps the listener open while endpoints drop the pod.
func Run(ctx context.Context, cfg config.Config, logger *zap.Logger) error {
	return run(ctx, cfg, logger, os.LookupEnv, nil)
}

// run is Run with the environment tracing reads and a hook that learns the metrics
// server's address.
func run(ctx context.Context, cfg config.Config, logger *zap.Logger, getenv func(string) (string, bool), metricsListening func(net.Addr)) error {
	asyncAPI, err := asyncapi.Document()
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	m, err := metrics.New(cfg.AppVersion)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	tr, err := tracing.Setup(ctx, tracing.Options{Service: "gateway", Version: cfg.AppVersion, Getenv: getenv, Log: logger})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	var groupLag *grouplag.Collector // the worker group's lag, read from the broker
	if cfg.KafkaEnabled {
		groupLag = grouplag.New(cfg.KafkaBrokers, cfg.KafkaSecurity, cfg.LagGroupID, cfg.InTopic, lagReadTimeout, logger)
		if err := m.Registry.RegisterAll(groupLag); err != nil {
			return errors.Join(fmt.Errorf("gateway: %w", err), tr.Shutdown(ctx))
		}
	}
	// A metrics server that cannot start stops the gateway like its API server would.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var metricsErr error // read after workers.Wait

	readiness := &probe.Readiness{Changed: probe.LogChanges(logger)}
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
		if metricsErr = platformmetrics.Serve(background, cfg.MetricsAddr, m.Registry, logger, metricsListening, platformmetrics.WithReadiness(readiness)); metricsErr != nil {
			stop()
		}
	})

	var pub api.Publisher = publisher.Disabled{}
	var kafkaPub *publisher.Kafka
	var replyRouting *api.ReplyRouting
	if cfg.KafkaEnabled {
		cfg.KafkaSecurity.Log(logger)
		kafkaPub = publisher.NewKafka(cfg.KafkaBrokers, cfg.InTopic, cfg.KafkaSecurity, logger, tr)
		kafkaPub.Linger = cfg.KafkaLinger
		observed := publisher.Observe(kafkaPub, cfg.InTopic, m, tr)
		pub = observed
		workers.Go(func() { _ = kafkaPub.Run(background) }) // ends with background
		workers.Go(func() { groupLag.Run(background) })
		waiters := replies.NewWaiters(maxWaitingReplies)
		replyTopic := messages.ReplyTopic(cfg.InTopic)
		consumer := replies.NewConsumer(cfg.KafkaBrokers, replyTopic, cfg.KafkaSecurity, waiters, logger)
		consumer.PartitionCheckInterval = cfg.ReplyPartitionCheckInterval
		consumer.Tracing = tr
		workers.Go(func() { _ = consumer.Run(background) }) // ends with background
		replyRouting = &api.ReplyRouting{Requester: observed, Topic: replyTopic, Waiters: waiters, Ready: consumer.Ready}
		workers.Go(func() {
			readiness.Poll(background, readinessInterval, func() error {
				err := kafkaPub.Ping()
				platformmetrics.SetBool(m.Registry.KafkaConnected, err == nil)
				return err
			})
		})
	} else {
		logger.Warn("Kafka is disabled (KAFKA_ENABLED=false): /v1/ping answers without publishing")
		readiness.Set(nil)
	}

	router := api.NewRouter(api.Deps{
		Logger: logger, Publisher: pub, Readiness: readiness, Version: cfg.AppVersion, Topic: cfg.InTopic, Now: time.Now,
		Metrics: m, Tracing: tr, AsyncAPI: asyncAPI, Replies: replyRouting,
		AccessLogAll: cfg.AccessLog == config.AccessLogAll, TrustIncomingTraceContext: cfg.TrustIncomingTraceContext,
	})
	logger.Info("starting gateway",
		zap.Bool("kafka_enabled", cfg.KafkaEnabled),
		zap.Strings("brokers", cfg.KafkaBrokers),
		zap.String("topic", cfg.InTopic),
		zap.String("metrics_addr", cfg.MetricsAddr),
		zap.Bool("tracing", tr.Enabled()),
		zap.String("access_log", cfg.AccessLog),
	)
	serveErr := httpserver.Run(ctx, httpserver.New(cfg.HTTPAddr, router), cfg.ShutdownTimeout, func(addr net.Addr) {
		logger.Info("listening", zap.String("addr", addr.String()))
	})

	stopBackground()
	workers.Wait()
	stop() // when the API server failed rather than ctx ended
	deadline := <-stopBy
	var closeErr error
	if kafkaPub != nil {
		if closeErr = closeBy(kafkaPub, deadline, logger); closeErr != nil {
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
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case err := <-closed:
		return err
	case <-timer.C:
		logger.Warn("stopped waiting for publishes still in flight: the shutdown time is up")
		return nil
	}
}
