// Package publisher delivers the gateway's requests to Kafka.
package publisher

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

// ErrNotConnected is returned while the first connection to the cluster is pending.
var ErrNotConnected = errors.New("publisher: not connected to Kafka yet")

// Kafka publishes requests with a sarama SyncProducer, so a request counts as sent only
// once every in-sync replica has it.
//
// The connection is made by Connect in the background: a gateway that starts before its
// cluster (as in a fresh `skaffold dev`) serves probes and answers 500 until Kafka is
// reachable, instead of crash-looping.
type Kafka struct {
	brokers []string
	topic   string
	logger  *zap.Logger
	conn    atomic.Pointer[connection]
	// sending is held shared by every Publish and exclusively by Close: a request the
	// server's graceful shutdown gave up on may still be publishing, and sarama panics
	// on a send to a closed producer.
	sending sync.RWMutex
}

type connection struct {
	client   sarama.Client
	producer sarama.SyncProducer
}

// NewKafka returns a publisher to topic on the cluster at brokers; call Connect next.
func NewKafka(brokers []string, topic string, logger *zap.Logger) *Kafka {
	return &Kafka{brokers: brokers, topic: topic, logger: logger}
}

// Connect tries to reach the cluster, backing off between attempts, until it succeeds
// or ctx ends.
func (k *Kafka) Connect(ctx context.Context) error {
	retry := backoff.New(250*time.Millisecond, 5*time.Second)
	for {
		conn, err := dial(k.brokers)
		if err == nil {
			k.conn.Store(conn)
			k.logger.Info("connected to Kafka", zap.Strings("brokers", k.brokers), logging.Topic(k.topic))
			return nil
		}
		delay := retry.Next()
		k.logger.Warn("cannot reach Kafka yet; retrying", zap.Strings("brokers", k.brokers),
			zap.Duration("retry_in", delay), zap.Error(err))
		if err := backoff.Sleep(ctx, delay); err != nil {
			return fmt.Errorf("publisher: connect: %w", err)
		}
	}
}

func dial(brokers []string) (*connection, error) {
	client, err := sarama.NewClient(brokers, kafka.ProducerConfig("streamgate-gateway"))
	if err != nil {
		return nil, fmt.Errorf("publisher: new client: %w", err)
	}
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("publisher: new producer: %w", err), client.Close())
	}
	return &connection{client: client, producer: producer}, nil
}

// Publish writes msg to the topic, keyed by its correlation ID, and waits for the
// broker's acknowledgement.
func (k *Kafka) Publish(_ context.Context, msg messages.SampleReqMsg) error {
	k.sending.RLock()
	defer k.sending.RUnlock()
	conn := k.conn.Load()
	if conn == nil {
		return ErrNotConnected
	}
	payload, err := messages.EncodeRequest(msg)
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	partition, offset, err := conn.producer.SendMessage(&sarama.ProducerMessage{
		Topic:   k.topic,
		Key:     sarama.StringEncoder(msg.CorrelationID),
		Value:   sarama.ByteEncoder(payload),
		Headers: kafka.Headers(msg.CorrelationID),
	})
	if err != nil {
		return fmt.Errorf("publisher: send to %s: %w", k.topic, err)
	}
	k.logger.Info("published",
		logging.CorrelationID(msg.CorrelationID),
		logging.Topic(k.topic),
		logging.Operation(logging.OperationPublish),
		logging.Status(messages.StatusReceived),
		zap.Int32("partition", partition),
		zap.Int64("offset", offset),
	)
	return nil
}

// Ping reports whether the cluster answers now; readiness asks it.
func (k *Kafka) Ping() error {
	conn := k.conn.Load()
	if conn == nil {
		return ErrNotConnected
	}
	return kafka.Ping(conn.client, k.topic)
}

// Close waits for running Publish calls, then flushes and closes the producer and the
// client; later calls to Publish return ErrNotConnected.
func (k *Kafka) Close() error {
	k.sending.Lock()
	defer k.sending.Unlock()
	conn := k.conn.Swap(nil)
	if conn == nil {
		return nil
	}
	return errors.Join(conn.producer.Close(), conn.client.Close())
}
