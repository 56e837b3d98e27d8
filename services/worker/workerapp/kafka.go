package workerapp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/backoff"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/metrics"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/router"
)

// clientID names the worker's connections in the broker's logs and metrics.
const clientID = "streamgate-worker"

// Retry bounds for reaching the cluster and for rejoining the group after a failed
// session: quick enough to recover within seconds of the broker coming back.
const (
	reconnectMin = 200 * time.Millisecond
	reconnectMax = 5 * time.Second
)

// errRebuild ends a connection whose credentials the cluster refused, so that consume
// builds a new one from the secret files on disk.
var errRebuild = errors.New("worker: the cluster refuses the client's credentials")

// errAborted ends a connection after a failed transaction (DELIVERY=exactly-once): the
// new group member starts from the committed offsets, with a new producer (which a
// fenced one needs).
var errAborted = fmt.Errorf("worker: a transaction was aborted; joining again from the committed offsets: %w", errRebuild)

// consumer is the worker's Kafka side: the router it feeds and the readiness that
// reports the connection.
type consumer struct {
	cfg    Config
	log    *zap.Logger
	ready  *probe.Readiness
	router *router.Router
}

// consume connects, then runs consumer group sessions until ctx is done; it returns
// after leaving the group and closing the producer. When the cluster refuses the
// credentials of a running connection (a rotated password, a renewed certificate), it
// leaves, closes and connects again with the secret files as they are now.
func (c consumer) consume(ctx context.Context) error {
	refused := router.NewRefusedOutputs() // exactly-once: outlives the clients built after aborts
	for {
		group, producer, err := c.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil // stopped before the cluster could be reached
			}
			return err
		}
		err = c.serve(ctx, refused, group, producer)
		if !errors.Is(err, errRebuild) {
			return err
		}
		if errors.Is(err, errAborted) {
			c.log.Warn("a transaction was aborted; building a new client to join again from the committed offsets")
			continue
		}
		c.log.Warn("Kafka refuses the client's credentials; building a new client from the secret files")
	}
}

// serve answers records with group and producer until ctx is done or the cluster refuses
// their credentials (errRebuild); it closes both before it returns.
func (c consumer) serve(ctx context.Context, refusedOutputs *router.RefusedOutputs, group sarama.ConsumerGroup, producer sarama.AsyncProducer) error {
	cfg, log, r := c.cfg, c.log, c.router
	// A fetch, commit or reply connection refused on re-authentication is reported only
	// in the background: it ends the session too, so that the client is rebuilt (what
	// the claims did not finish is redelivered). So does a failed transaction: the new
	// member starts from the committed offsets.
	session, endSession := context.WithCancel(ctx)
	defer endSession()
	var refused, aborted atomic.Bool
	refuse := func() {
		refused.Store(true)
		endSession()
	}
	delivery, dispatch, closeDelivery, err := newDelivery(cfg, r, producer, refusedOutputs, func(err error) {
		if kafka.NeedsNewClient(cfg.KafkaSecurity.Explain(err)) {
			refuse()
		}
		if cfg.Delivery.Mode == ExactlyOnce { // a transaction failed
			aborted.Store(true)
			refuse()
		}
	})
	if err != nil {
		return errors.Join(err, group.Close(), producer.Close())
	}
	handler, err := r.Handler(delivery)
	if err != nil {
		closeDelivery()
		return errors.Join(err, group.Close(), producer.Close())
	}

	var wg sync.WaitGroup
	// Both run until the group, then the producer, are closed below.
	wg.Go(func() { logGroupErrors(group.Errors(), cfg.KafkaSecurity, log, refuse) })
	if dispatch != nil {
		wg.Go(dispatch)
	}

	loopErr := sessionLoop{
		group: group, topics: r.Topics(), handler: handler, security: cfg.KafkaSecurity,
		log: log, ready: c.ready, connected: r.Metrics().Registry.KafkaConnected,
	}.run(session)
	switch {
	case loopErr != nil || ctx.Err() != nil:
	case aborted.Load():
		loopErr = errAborted
	case refused.Load():
		loopErr = errRebuild
	}
	closeDelivery() // every claim has returned

	// Every claim has drained and committed by now. Leave the group first, so its
	// partitions move on at once, then flush and close the producer.
	// Close also drains the group's error channel, racing logGroupErrors, and returns
	// the last error it found there: one that may predate the close.
	if err := group.Close(); err != nil {
		log.Warn("consumer group closed; its last background error", zap.Error(err))
	}
	producer.AsyncClose()
	wg.Wait()
	return loopErr
}

// connect creates the consumer group and the producer, retrying with backoff while
// the cluster cannot be reached or refuses the credentials, until ctx is done. Readiness
// carries the reason of the last failure, and the connected gauge is 0 meanwhile.
func (c consumer) connect(ctx context.Context) (sarama.ConsumerGroup, sarama.AsyncProducer, error) {
	cfg, log, connected := c.cfg, c.log, c.router.Metrics().Registry.KafkaConnected
	retry := backoff.New(reconnectMin, reconnectMax)
	for {
		group, producer, err := dial(cfg)
		metrics.SetBool(connected, err == nil)
		if err == nil {
			log.Info("connected to Kafka", zap.Strings("brokers", cfg.KafkaBrokers))
			return group, producer, nil
		}
		var bad sarama.ConfigurationError
		if errors.As(err, &bad) {
			return nil, nil, err // retrying will not help
		}
		err = cfg.KafkaSecurity.Explain(err)
		c.ready.Set(err)
		delay := retry.Next()
		log.Warn("cannot connect to Kafka; retrying", zap.Strings("brokers", cfg.KafkaBrokers),
			zap.Error(err), zap.NamedError("cause", errors.Unwrap(err)), zap.Duration("retry_in", delay))
		if err := backoff.Sleep(ctx, delay); err != nil {
			return nil, nil, err
		}
	}
}

func dial(cfg Config) (sarama.ConsumerGroup, sarama.AsyncProducer, error) {
	groupCfg, producerCfg := kafka.ConsumerGroupConfig(clientID), kafka.ProducerConfig(clientID)
	if cfg.Delivery.Mode == ExactlyOnce {
		groupCfg, producerCfg = exactlyOnceConfigs(groupCfg, producerCfg, cfg.GroupID)
	}
	for _, c := range []*sarama.Config{groupCfg, producerCfg} {
		if err := cfg.KafkaSecurity.Apply(c); err != nil {
			return nil, nil, err
		}
		// A reply_to or misconfigured topic must never make the broker create a topic.
		c.Metadata.AllowAutoTopicCreation = false
	}
	group, err := sarama.NewConsumerGroup(cfg.KafkaBrokers, cfg.GroupID, groupCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("worker: consumer group %q: %w", cfg.GroupID, err)
	}
	producer, err := sarama.NewAsyncProducer(cfg.KafkaBrokers, producerCfg)
	if err != nil {
		_ = group.Close() // never joined: nothing to leave, only connections to drop
		return nil, nil, fmt.Errorf("worker: producer: %w", err)
	}
	return group, producer, nil
}

// sessionLoop runs one consumer group session after another, reporting on ready and
// connected.
type sessionLoop struct {
	group     sarama.ConsumerGroup
	topics    []string
	handler   sarama.ConsumerGroupHandler
	security  kafka.Security
	log       *zap.Logger
	ready     *probe.Readiness
	connected prometheus.Gauge
}

// run runs the sessions: a rebalance ends a session normally and the next starts at
// once; a failed one is retried with backoff, and its reason shown by readiness;
// connected turns 0 (the handler sets it to 1 when a session starts). It returns
// errRebuild when the cluster refused the credentials.
func (l sessionLoop) run(ctx context.Context) error {
	group, topics, log := l.group, l.topics, l.log
	retry := backoff.New(reconnectMin, reconnectMax)
	for {
		err := group.Consume(ctx, topics, l.handler)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, sarama.ErrClosedConsumerGroup):
			// Only consume closes the group, after this loop: something is badly off.
			return fmt.Errorf("worker: consume: %w", err)
		case err != nil:
			err = l.security.Explain(err)
			l.ready.Set(err)
			l.connected.Set(0)
			if kafka.NeedsNewClient(err) {
				log.Warn("consumer group session failed", zap.Strings("topics", topics), zap.Error(err))
				return errRebuild
			}
			delay := retry.Next()
			log.Warn("consumer group session failed; retrying",
				zap.Strings("topics", topics), zap.Error(err), zap.Duration("retry_in", delay))
			if backoff.Sleep(ctx, delay) != nil {
				return nil
			}
		default:
			retry.Reset()
		}
	}
}

// logGroupErrors logs what the consumer group reports in the background (failed
// heartbeats, offset commits, fetches) until the group closes the channel, and calls
// refused when the cluster refuses the client's credentials.
func logGroupErrors(errs <-chan error, security kafka.Security, log *zap.Logger, refused func()) {
	for err := range errs {
		err = security.Explain(err)
		log.Warn("consumer group error", zap.Error(err))
		if kafka.NeedsNewClient(err) {
			refused()
		}
	}
}
