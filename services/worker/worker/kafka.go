package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/backoff"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/services/worker/config"
	"github.com/streamgate/streamgate/services/worker/internal/consumer"
)

// clientID names the worker's connections in the broker's logs and metrics.
const clientID = "streamgate-worker"

// Retry bounds for reaching the cluster and for rejoining the group after a failed
// session: quick enough to recover within seconds of the broker coming back.
const (
	reconnectMin = 200 * time.Millisecond
	reconnectMax = 5 * time.Second
)

// consume connects, then runs consumer group sessions until ctx is done; it returns
// after leaving the group and closing the producer.
func consume(ctx context.Context, cfg config.Config, log *zap.Logger, ready *probe.Readiness) error {
	group, producer, err := connect(ctx, cfg, log)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before the cluster could be reached
		}
		return err
	}

	handler, err := consumer.New(consumer.Options{
		OutTopic: cfg.OutTopic,
		DLQTopic: cfg.DLQTopic,
		Producer: producer,
		Log:      log,
		Ready:    ready,
		// A claim's final wait for acknowledgements must fit in the shutdown budget.
		DrainTimeout: min(consumer.DefaultDrainTimeout, cfg.ShutdownTimeout/2),
	})
	if err != nil {
		return errors.Join(err, group.Close(), producer.Close())
	}

	var wg sync.WaitGroup
	wg.Go(func() { logGroupErrors(group.Errors(), log) }) // until group.Close
	wg.Go(func() { consumer.Dispatch(producer, log) })    // until the producer closes

	loopErr := consumeLoop(ctx, group, []string{cfg.InTopic}, handler, log)

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
// no broker answers, until ctx is done.
func connect(ctx context.Context, cfg config.Config, log *zap.Logger) (sarama.ConsumerGroup, sarama.AsyncProducer, error) {
	retry := backoff.New(reconnectMin, reconnectMax)
	for {
		group, producer, err := dial(cfg)
		if err == nil {
			log.Info("connected to Kafka", zap.Strings("brokers", cfg.KafkaBrokers))
			return group, producer, nil
		}
		var bad sarama.ConfigurationError
		if errors.As(err, &bad) {
			return nil, nil, err // retrying will not help
		}
		delay := retry.Next()
		log.Warn("cannot reach Kafka; retrying",
			zap.Strings("brokers", cfg.KafkaBrokers), zap.Error(err), zap.Duration("retry_in", delay))
		if err := backoff.Sleep(ctx, delay); err != nil {
			return nil, nil, err
		}
	}
}

func dial(cfg config.Config) (sarama.ConsumerGroup, sarama.AsyncProducer, error) {
	group, err := sarama.NewConsumerGroup(cfg.KafkaBrokers, cfg.GroupID, kafka.ConsumerGroupConfig(clientID))
	if err != nil {
		return nil, nil, fmt.Errorf("worker: consumer group %q: %w", cfg.GroupID, err)
	}
	producer, err := sarama.NewAsyncProducer(cfg.KafkaBrokers, kafka.ProducerConfig(clientID))
	if err != nil {
		_ = group.Close() // never joined: nothing to leave, only connections to drop
		return nil, nil, fmt.Errorf("worker: producer: %w", err)
	}
	return group, producer, nil
}

// consumeLoop runs one session after another: a rebalance ends a session normally and
// the next starts at once; a failed one is retried with backoff.
func consumeLoop(ctx context.Context, group sarama.ConsumerGroup, topics []string, handler sarama.ConsumerGroupHandler, log *zap.Logger) error {
	retry := backoff.New(reconnectMin, reconnectMax)
	for {
		err := group.Consume(ctx, topics, handler)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, sarama.ErrClosedConsumerGroup):
			// Only consume closes the group, after this loop: something is badly off.
			return fmt.Errorf("worker: consume: %w", err)
		case err != nil:
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
// heartbeats, offset commits, fetches) until the group closes the channel.
func logGroupErrors(errs <-chan error, log *zap.Logger) {
	for err := range errs {
		log.Warn("consumer group error", zap.Error(err))
	}
}
