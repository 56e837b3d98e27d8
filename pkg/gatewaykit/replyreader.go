package gatewaykit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/backoff"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// ErrNotReadingReplies is Ready's answer until every partition of the reply topic is read.
var ErrNotReadingReplies = errors.New("gatewaykit: not reading the reply topic yet")

// errPartitionClosed ends a read whose partition consumer sarama closed by itself.
var errPartitionClosed = errors.New("gatewaykit: the partition consumer stopped")

// refusedRetryMax caps the wait before rebuilding a client the cluster refused (or that
// refused the cluster): a fixed secret file or CA is picked up within seconds, not at
// the next step of the minute-long backoff meant for a missing reply topic.
const refusedRetryMax = 5 * time.Second

// DefaultPartitionCheckInterval is how often a reply reader looks for partitions added to
// the reply topic, unless PartitionCheckInterval says otherwise.
const DefaultPartitionCheckInterval = 30 * time.Second

// ReplyReaderConfig is what every reply reader of a gateway connects with.
type ReplyReaderConfig struct {
	Brokers  []string
	Security kafka.Security
	Logger   *zap.Logger
	// PartitionCheckInterval is how often a reply topic's metadata is refreshed to
	// find partitions added while connected; 0 means DefaultPartitionCheckInterval.
	PartitionCheckInterval time.Duration
	// MaxWaiting bounds the requests waiting for a reply on one reply topic; more are
	// refused at once (ErrTooManyWaiting) rather than piling up.
	MaxWaiting int
	// Tracing, if set, records a consumer span per reply delivered to a waiter of this
	// instance, in the trace of the worker's send span.
	Tracing *tracing.Tracing
}

// replyReader reads every partition of one reply topic from its end, without a
// consumer group (each instance needs every reply; none is ever committed), and
// delivers each record to the waiter its correlation_id header names.
type replyReader struct {
	cfg     ReplyReaderConfig
	topic   string
	waiters *Waiters
	reading atomic.Bool
}

// Ready reports whether replies are being read: a request published before that could
// miss its reply.
func (c *replyReader) Ready() error {
	if !c.reading.Load() {
		return ErrNotReadingReplies
	}
	return nil
}

// Run connects (backing off between attempts), reads until ctx ends, and returns once
// every goroutine it started has stopped.
func (c *replyReader) Run(ctx context.Context) error {
	// Up to a minute between attempts: a cluster without the reply topic (nobody uses
	// request/reply there) gets a warning a minute, not a flood.
	retry := backoff.New(time.Second, time.Minute)
	for {
		err := c.read(ctx, retry.Reset)
		if ctx.Err() != nil {
			return fmt.Errorf("gatewaykit: %w", ctx.Err())
		}
		delay := retry.Next()
		if kafka.NeedsNewClient(err) {
			delay = min(delay, refusedRetryMax)
		}
		c.cfg.Logger.Warn("cannot read the reply topic; requests awaiting a reply there are answered 503 until it can", logging.Topic(c.topic),
			zap.Duration("retry_in", delay), zap.Error(err))
		if err := backoff.Sleep(ctx, delay); err != nil {
			return fmt.Errorf("gatewaykit: %w", err)
		}
	}
}

// read consumes every partition until ctx ends or one of them fails, including those
// added to the topic while it runs; it calls reading once every partition present at
// the start is read.
func (c *replyReader) read(ctx context.Context, reading func()) error {
	cfg := kafka.ConsumerConfig("streamgate-gateway-replies")
	// Replies of an exactly-once worker are visible once their transaction commits; an
	// aborted one is never delivered. Without transactions read_committed reads the same
	// records (the last stable offset is the high-water mark), so it is not a setting.
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	if err := c.cfg.Security.Apply(cfg); err != nil {
		return err
	}
	client, err := sarama.NewClient(c.cfg.Brokers, cfg)
	if err != nil {
		return c.cfg.Security.Explain(fmt.Errorf("gatewaykit: new client: %w", err))
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return fmt.Errorf("gatewaykit: new consumer: %w", err)
	}
	defer consumer.Close()
	partitions, err := consumer.Partitions(c.topic)
	if err != nil {
		return fmt.Errorf("gatewaykit: partitions of %s: %w", c.topic, err)
	}

	ctx, stop := context.WithCancelCause(ctx)
	var readers sync.WaitGroup
	defer readers.Wait()
	defer stop(nil)
	consume := func(p int32, offset int64) error {
		pc, err := consumer.ConsumePartition(c.topic, p, offset)
		if err != nil {
			return fmt.Errorf("gatewaykit: consume %s/%d: %w", c.topic, p, err)
		}
		readers.Go(func() {
			defer pc.AsyncClose()
			if err := c.readPartition(ctx, pc); err != nil {
				stop(err)
			}
		})
		return nil
	}
	for _, p := range partitions {
		if err := consume(p, sarama.OffsetNewest); err != nil {
			stop(err)
			return err
		}
	}
	readers.Go(func() {
		if err := c.watchPartitions(ctx, client, partitions, consume); err != nil {
			stop(err)
		}
	})
	// From here on a reply to a request published now is read: ConsumePartition has
	// resolved each partition's end offset.
	c.reading.Store(true)
	defer c.reading.Store(false)
	reading()
	c.cfg.Logger.Info("reading replies", logging.Topic(c.topic), zap.Int("partitions", len(partitions)))
	<-ctx.Done()
	return context.Cause(ctx)
}

// watchPartitions refreshes the topic's metadata every PartitionCheckInterval until ctx
// ends and consumes each partition not in initial from its start: it is new, and a worker
// may have written replies there before we noticed it. A refresh that fails is tried
// again at the next tick; a partition that cannot be consumed ends the read.
func (c *replyReader) watchPartitions(ctx context.Context, client sarama.Client, initial []int32, consume func(p int32, offset int64) error) error {
	known := make(map[int32]bool, len(initial))
	for _, p := range initial {
		known[p] = true
	}
	interval := c.cfg.PartitionCheckInterval
	if interval <= 0 {
		interval = DefaultPartitionCheckInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		partitions, err := c.partitions(client)
		if err != nil {
			c.cfg.Logger.Warn("cannot look for new reply partitions", logging.Topic(c.topic), zap.Error(err))
			continue
		}
		var added []int32
		for _, p := range partitions {
			if !known[p] {
				added = append(added, p)
			}
		}
		if len(added) == 0 {
			continue
		}
		slices.Sort(added)
		for _, p := range added {
			if err := consume(p, sarama.OffsetOldest); err != nil {
				return err
			}
			known[p] = true
		}
		c.cfg.Logger.Info("reading new reply partitions", logging.Topic(c.topic), zap.Int32s("partitions", added))
	}
}

// partitions asks the brokers for the topic's partitions now, rather than what the
// client cached. Only those with a leader: one just created may have none yet, and
// consuming it would fail the whole read; it is found at a later tick.
func (c *replyReader) partitions(client sarama.Client) ([]int32, error) {
	if err := client.RefreshMetadata(c.topic); err != nil {
		return nil, fmt.Errorf("gatewaykit: refresh metadata of %s: %w", c.topic, err)
	}
	partitions, err := client.WritablePartitions(c.topic)
	if err != nil {
		return nil, fmt.Errorf("gatewaykit: partitions of %s: %w", c.topic, err)
	}
	return partitions, nil
}

// readPartition delivers the partition's records until ctx ends. sarama reconnects by
// itself, so its errors are only logged, but for a refusal of the client's credentials
// (a rotated password or certificate): that one is returned, for Run to build a new
// client from the secret files.
func (c *replyReader) readPartition(ctx context.Context, pc sarama.PartitionConsumer) error {
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
				if c.cfg.Tracing != nil {
					_, span := c.cfg.Tracing.StartProcess(ctx, msg, "")
					span.End()
				}
				c.cfg.Logger.Debug("reply delivered", logging.CorrelationID(id), logging.Topic(c.topic),
					zap.Int32("partition", msg.Partition), zap.Int64("offset", msg.Offset))
			}
		case err, ok := <-pc.Errors():
			if !ok {
				return errPartitionClosed
			}
			// The explained error, not sarama's: only it says whether the credentials
			// were refused.
			if explained := c.cfg.Security.Explain(err); kafka.NeedsNewClient(explained) {
				return explained
			}
			c.cfg.Logger.Warn("reading the reply topic", logging.Topic(c.topic), zap.Error(err))
		}
	}
}
