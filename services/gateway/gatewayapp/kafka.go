package gatewayapp

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	platformmetrics "github.com/streamgate/streamgate/pkg/platform/metrics"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/config"
	"github.com/streamgate/streamgate/services/gateway/internal/grouplag"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

// readinessInterval is how often readiness asks Kafka; a stopped broker turns /readyz
// to 503 within about this long.
const readinessInterval = 2 * time.Second

// lagReadTimeout bounds one reading of the worker group's offsets from the broker.
const lagReadTimeout = 3 * time.Second

// maxWaitingReplies bounds the requests waiting for their reply at once on one reply
// topic; more are answered 503 at once rather than piling up.
const maxWaitingReplies = 1024

// kafkaClients are the gateway's Kafka side; with Kafka disabled only sender is set
// (to gatewaykit.Disabled).
type kafkaClients struct {
	sender       gatewaykit.Sender
	producer     *gatewaykit.Producer
	replyReaders *gatewaykit.ReplyReaders
	groupLag     *grouplag.Collector // the worker group's lag, read from the broker
}

func newKafkaClients(cfg config.Config, logger *zap.Logger, m *metrics.Metrics, tr *tracing.Tracing) (kafkaClients, error) {
	if !cfg.KafkaEnabled {
		return kafkaClients{sender: gatewaykit.Disabled{}}, nil
	}
	cfg.KafkaSecurity.Log(logger)
	producer := gatewaykit.NewProducer(gatewaykit.ProducerConfig{
		Brokers: cfg.KafkaBrokers, Security: cfg.KafkaSecurity, Logger: logger, Tracing: tr, Linger: cfg.KafkaLinger,
	})
	kc := kafkaClients{
		sender:   gatewaykit.Observe(producer, m.Publish(), tr),
		producer: producer,
		replyReaders: gatewaykit.NewReplyReaders(gatewaykit.ReplyReaderConfig{
			Brokers: cfg.KafkaBrokers, Security: cfg.KafkaSecurity, Logger: logger,
			PartitionCheckInterval: cfg.ReplyPartitionCheckInterval, MaxWaiting: maxWaitingReplies, Tracing: tr,
		}),
		groupLag: grouplag.New(grouplag.Config{
			Brokers: cfg.KafkaBrokers, Security: cfg.KafkaSecurity, Group: cfg.LagGroupID, Topic: cfg.InTopic,
			Timeout: lagReadTimeout, Logger: logger,
		}),
	}
	if err := m.Registry.RegisterAll(kc.groupLag); err != nil {
		return kafkaClients{}, fmt.Errorf("gateway: %w", err)
	}
	return kc, nil
}

// start runs the Kafka side's background work on workers until background ends: the
// producer's connection, the reply readers, the lag readings, and readiness polling the
// cluster (with the connected gauge).
func (kc kafkaClients) start(background context.Context, workers *sync.WaitGroup, readiness *probe.Readiness, connected prometheus.Gauge) {
	workers.Go(func() { _ = kc.producer.Run(background) })
	workers.Go(func() { _ = kc.replyReaders.Run(background) })
	workers.Go(func() { kc.groupLag.Run(background) })
	workers.Go(func() {
		readiness.Poll(background, readinessInterval, func() error {
			err := kc.producer.Ping()
			platformmetrics.SetBool(connected, err == nil)
			return err
		})
	})
}

// replyTopics are the topics the reply readers read; none with Kafka disabled.
func (kc kafkaClients) replyTopics() []string {
	if kc.replyReaders == nil {
		return nil
	}
	return kc.replyReaders.Topics()
}
