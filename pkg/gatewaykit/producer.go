package gatewaykit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/backoff"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// ErrNotConnected is returned while the first connection to the cluster is pending.
var ErrNotConnected = errors.New("gatewaykit: not connected to Kafka yet")

// Record is one message to send: its body already encoded. Publisher and Requester
// build them; a Sender delivers them.
type Record struct {
	Topic string
	Key   string
	Value []byte
	// CorrelationID is the record's correlation_id header (logged, echoed on replies).
	CorrelationID string
	// ReplyTo, when not empty, is the record's reply_to header: the topic the sender
	// waits on for the answer, as FastStream's request/reply sets it.
	ReplyTo string
}

// Sender delivers a record; it returns only once the broker has acknowledged it, or
// with the reason it could not. Producer, Observed and Disabled are Senders.
type Sender interface {
	Send(ctx context.Context, rec Record) error
}

// ProducerConfig is what a Producer connects with.
type ProducerConfig struct {
	Brokers  []string
	Security kafka.Security
	Logger   *zap.Logger
	Tracing  *tracing.Tracing
	// Linger is how long the producer waits for more records to send with one
	// (Flush.Frequency); 0 sends at once. DefaultLinger is the gateway's default.
	Linger time.Duration
}

// Producer sends records with a sarama SyncProducer, so a record counts as sent only
// once every in-sync replica has it.
//
// The connection is made and kept by Run in the background: a gateway that starts
// before its cluster (as in a fresh `skaffold dev`), or with credentials the cluster
// refuses, serves probes and answers 500 until Kafka accepts it, instead of
// crash-looping.
type Producer struct {
	// CheckTopics are the topics Ping asks the cluster about, so that readiness fails
	// while one of them is missing or not allowed; set it before Run.
	CheckTopics []string

	cfg  ProducerConfig
	conn atomic.Pointer[connection]
	// connectErr is why the last attempt to connect failed; readiness reports it.
	connectErr atomic.Pointer[error]
	// lastCheck is the outcome of the last Ping of a connection, "" for success.
	lastCheck atomic.Pointer[string]
	// rebuild asks Run for a new client: the cluster refused the current one's
	// credentials, and the secret files may have changed since it was built.
	rebuild chan error
}

// connection is one client and its producer. Each send holds its use lock shared and
// closing holds it exclusively: sarama panics on a send to a closed producer, and a
// request the server's graceful shutdown gave up on may still be publishing. The lock
// is the connection's own, so while a replaced connection waits for its last sends
// (up to the producer's delivery window) new ones go to its successor at once.
type connection struct {
	client   sarama.Client
	producer sarama.SyncProducer
	use      sync.RWMutex
	closed   bool // set under use, exclusively
}

// acquire returns the current connection with its use lock held shared (release it
// with use.RUnlock), or ErrNotConnected.
func (k *Producer) acquire() (*connection, error) {
	for {
		conn := k.conn.Load()
		if conn == nil {
			return nil, ErrNotConnected
		}
		conn.use.RLock()
		if !conn.closed {
			return conn, nil
		}
		conn.use.RUnlock() // replaced and closed since it was loaded: take its successor
	}
}

// close closes c once the sends using it have returned.
func (c *connection) close() error {
	c.use.Lock()
	defer c.use.Unlock()
	c.closed = true
	return errors.Join(c.producer.Close(), c.client.Close())
}

// NewProducer returns a producer for the cluster cfg names; start Run next. The trace
// context of each Send call's context goes into its record's headers.
func NewProducer(cfg ProducerConfig) *Producer {
	return &Producer{cfg: cfg, rebuild: make(chan error, 1)}
}

// Run connects, backing off between attempts, and then keeps the connection until ctx
// ends: when the cluster refuses the client's credentials (a rotated password, a renewed
// certificate or CA), it builds a new client from the secret files on disk and swaps it
// in. It returns ctx's error.
func (k *Producer) Run(ctx context.Context) error {
	for {
		conn, err := k.connect(ctx)
		if err != nil {
			return err
		}
		if old := k.conn.Swap(conn); old != nil {
			k.closeRetired(old)
		}
		select {
		case <-k.rebuild: // asked about the client just replaced
		default:
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gatewaykit: %w", ctx.Err())
		case refused := <-k.rebuild:
			k.cfg.Logger.Warn("Kafka refuses the client's credentials; building a new client from the secret files", zap.Error(refused))
		}
	}
}

// connect dials until a client is made or ctx ends.
func (k *Producer) connect(ctx context.Context) (*connection, error) {
	retry := backoff.New(250*time.Millisecond, 5*time.Second)
	for {
		conn, err := dial(k.cfg.Brokers, k.cfg.Security, k.cfg.Linger)
		if err == nil {
			k.connectErr.Store(nil)
			k.cfg.Logger.Info("connected to Kafka", zap.Strings("brokers", k.cfg.Brokers), zap.Strings("topics", k.CheckTopics))
			return conn, nil
		}
		err = k.cfg.Security.Explain(err)
		k.connectErr.Store(&err)
		delay := retry.Next()
		k.cfg.Logger.Warn("cannot connect to Kafka; retrying", zap.Strings("brokers", k.cfg.Brokers),
			zap.Duration("retry_in", delay), zap.Error(err), zap.NamedError("cause", errors.Unwrap(err)))
		if err := backoff.Sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("gatewaykit: connect: %w", err)
		}
	}
}

// DefaultLinger lets requests arriving within a millisecond share one produce request:
// fewer, larger batches cost the gateway less CPU per request at high rates (0.9x at
// 5,000 requests/s) for about a millisecond more per request (HTTP p50 2.7 instead of
// 1.6 ms at 200/s, where it also costs more CPU: a timer per request). make bench;
// docs/performance.md. The delivery guarantees are the same per record.
const DefaultLinger = time.Millisecond

// ProducerClientID is the client.id of the gateway's producer, the entity a broker's
// client quotas (producer_byte_rate) name.
const ProducerClientID = "streamgate-gateway"

func dial(brokers []string, security kafka.Security, linger time.Duration) (*connection, error) {
	cfg := kafka.ProducerConfig(ProducerClientID)
	cfg.Producer.Flush.Frequency = linger
	if err := security.Apply(cfg); err != nil {
		return nil, err
	}
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("gatewaykit: new client: %w", err)
	}
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("gatewaykit: new producer: %w", err), client.Close())
	}
	return &connection{client: client, producer: producer}, nil
}

// closeRetired closes a connection Run replaced, once the Send calls that may still
// use it have returned; new ones already use its successor.
func (k *Producer) closeRetired(old *connection) {
	if err := old.close(); err != nil {
		k.cfg.Logger.Warn("closing the replaced Kafka client", zap.Error(err))
	}
}

// Send writes rec and waits for the broker's acknowledgement.
func (k *Producer) Send(ctx context.Context, rec Record) error {
	conn, err := k.acquire()
	if err != nil {
		return err
	}
	defer conn.use.RUnlock()
	headers := kafka.Headers(rec.CorrelationID)
	if rec.ReplyTo != "" {
		headers = append(headers, sarama.RecordHeader{Key: []byte(messages.HeaderReplyTo), Value: []byte(rec.ReplyTo)})
	}
	record := &sarama.ProducerMessage{
		Topic:   rec.Topic,
		Key:     sarama.StringEncoder(rec.Key),
		Value:   sarama.ByteEncoder(rec.Value),
		Headers: headers,
	}
	k.cfg.Tracing.Inject(ctx, record)
	partition, offset, err := conn.producer.SendMessage(record)
	if err != nil {
		return fmt.Errorf("gatewaykit: send to %s: %w", rec.Topic, err)
	}
	tracing.Sent(trace.SpanFromContext(ctx), partition, offset)
	// One line per request is most of the CPU a publish costs beside sarama (make
	// bench), so it is a debug line; failures are logged by the handler.
	if line := k.cfg.Logger.Check(zap.DebugLevel, "published"); line != nil {
		line.Write(
			logging.CorrelationID(rec.CorrelationID),
			tracing.LogFields(ctx),
			logging.Topic(rec.Topic),
			logging.Operation(logging.OperationPublish),
			logging.Status(messages.StatusReceived),
			zap.Int32("partition", partition),
			zap.Int64("offset", offset),
		)
	}
	return nil
}

// Ping reports whether the cluster answers now and, if not, why; readiness asks it.
// A refusal of the client's credentials also asks Run for a new client.
func (k *Producer) Ping() error {
	conn := k.conn.Load()
	if conn == nil {
		if err := k.connectErr.Load(); err != nil {
			return *err
		}
		return ErrNotConnected
	}
	err := k.check(conn.client)
	k.logCheck(err)
	if kafka.NeedsNewClient(err) {
		select {
		case k.rebuild <- err:
		default: // already asked
		}
	}
	return err
}

// check asks the cluster about every topic in CheckTopics.
func (k *Producer) check(client sarama.Client) error {
	for _, topic := range k.CheckTopics {
		if err := kafka.Ping(client, topic); err != nil {
			return k.cfg.Security.Explain(err)
		}
	}
	return nil
}

// logCheck logs when the outcome of Ping changes, so that a connected gateway turning
// unready (an ACL removed, the broker gone) says why in its log, once.
func (k *Producer) logCheck(err error) {
	outcome := ""
	if err != nil {
		outcome = err.Error()
	}
	if previous := k.lastCheck.Swap(&outcome); previous != nil && *previous == outcome {
		return
	}
	if err != nil {
		k.cfg.Logger.Warn("Kafka check failed", zap.Strings("topics", k.CheckTopics), zap.Error(err))
	} else {
		k.cfg.Logger.Info("Kafka check passed", zap.Strings("topics", k.CheckTopics))
	}
}

// Close waits for running Send calls, then flushes and closes the producer and the
// client; later calls to Send return ErrNotConnected.
func (k *Producer) Close() error {
	conn := k.conn.Swap(nil)
	if conn == nil {
		return nil
	}
	return conn.close()
}
