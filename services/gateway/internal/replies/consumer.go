package replies

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/backoff"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
)

// ErrNotReading is Ready's answer until every partition of the reply topic is read.
var ErrNotReading = errors.New("replies: not reading the reply topic yet")

// errPartitionClosed ends a read whose partition consumer sarama closed by itself.
var errPartitionClosed = errors.New("replies: the partition consumer stopped")

// Consumer reads every partition of the reply topic from its end, without a consumer
// group (each instance needs every reply; none is ever committed), and delivers each
// record to the waiter its correlation_id header names.
type Consumer struct {
	brokers  []string
	topic    string
	security kafka.Security
	waiters  *Waiters
	logger   *zap.Logger
	reading  atomic.Bool
}

// NewConsumer returns a consumer of topic for waiters; start Run next.
func NewConsumer(brokers []string, topic string, security kafka.Security, waiters *Waiters, logger *zap.Logger) *Consumer {
	return &Consumer{brokers: brokers, topic: topic, security: security, waiters: waiters, logger: logger}
}

// Ready reports whether replies are being read: a request published before that could
// miss its reply.
func (c *Consumer) Ready() error {
	if !c.reading.Load() {
		return ErrNotReading
	}
	return nil
}

// Run connects (backing off between attempts), reads until ctx ends, and returns once
// every goroutine it started has stopped.
func (c *Consumer) Run(ctx context.Context) error {
	// Up to a minute between attempts: a cluster without the reply topic (nobody uses
	// POST /v1/requests there) gets a warning a minute, not a flood.
	retry := backoff.New(time.Second, time.Minute)
	for {
		err := c.read(ctx, retry.Reset)
		if ctx.Err() != nil {
			return fmt.Errorf("replies: %w", ctx.Err())
		}
		delay := retry.Next()
		c.logger.Warn("cannot read the reply topic; POST /v1/requests answers 503 until it can", logging.Topic(c.topic),
			zap.Duration("retry_in", delay), zap.Error(err))
		if err := backoff.Sleep(ctx, delay); err != nil {
			return fmt.Errorf("replies: %w", err)
		}
	}
}

// read consumes every partition until ctx ends or one of them fails; it calls reading
// once every partition is read.
func (c *Consumer) read(ctx context.Context, reading func()) error {
	cfg := kafka.ConsumerConfig("streamgate-gateway-replies")
	if err := c.security.Apply(cfg); err != nil {
		return err
	}
	client, err := sarama.NewClient(c.brokers, cfg)
	if err != nil {
		return c.security.Explain(fmt.Errorf("replies: new client: %w", err))
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return fmt.Errorf("replies: new consumer: %w", err)
	}
	defer consumer.Close()
	partitions, err := consumer.Partitions(c.topic)
	if err != nil {
		return fmt.Errorf("replies: partitions of %s: %w", c.topic, err)
	}

	ctx, stop := context.WithCancelCause(ctx)
	var readers sync.WaitGroup
	defer readers.Wait()
	defer stop(nil)
	for _, p := range partitions {
		pc, err := consumer.ConsumePartition(c.topic, p, sarama.OffsetNewest)
		if err != nil {
			stop(err)
			return fmt.Errorf("replies: consume %s/%d: %w", c.topic, p, err)
		}
		readers.Go(func() {
			defer pc.AsyncClose()
			if err := c.readPartition(ctx, pc); err != nil {
				stop(err)
			}
		})
	}
	// From here on a reply to a request published now is read: ConsumePartition has
	// resolved each partition's end offset.
	c.reading.Store(true)
	defer c.reading.Store(false)
	reading()
	c.logger.Info("reading replies", logging.Topic(c.topic), zap.Int("partitions", len(partitions)))
	<-ctx.Done()
	return context.Cause(ctx)
}

// readPartition delivers the partition's records until ctx ends. sarama reconnects by
// itself, so its errors are only logged, but for a refusal of the client's credentials
// (a rotated password or certificate): that one is returned, for Run to build a new
// client from the secret files.
func (c *Consumer) readPartition(ctx context.Context, pc sarama.PartitionConsumer) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-pc.Messages():
			if !ok {
				// sarama gave the partition up (offset out of range, e.g. the topic
				// was recreated): start again from its end.
				return errPartitionClosed
			}
			id := kafka.Header(msg.Headers, messages.HeaderCorrelationID)
			if c.waiters.Deliver(id, msg.Value) {
				c.logger.Debug("reply delivered", logging.CorrelationID(id), logging.Topic(c.topic),
					zap.Int32("partition", msg.Partition), zap.Int64("offset", msg.Offset))
			}
		case err, ok := <-pc.Errors():
			if !ok {
				return errPartitionClosed
			}
			if kafka.NeedsNewClient(err) {
				return c.security.Explain(err)
			}
			c.logger.Warn("reading the reply topic", logging.Topic(c.topic), zap.Error(err))
		}
	}
}
