package worker

import (
	"crypto/rand"
	"encoding/hex"
	"os"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
	"github.com/streamgate/streamgate/services/worker/config"
	"github.com/streamgate/streamgate/services/worker/internal/consumer"
)

// newHandler is the consumer group handler of cfg.Delivery. With exactly-once, producer
// is transactional and the handler reads its results; fenced is called when it must
// be replaced.
func newHandler(cfg config.Config, opts consumer.Options, producer sarama.AsyncProducer, tel telemetry, fenced func(error)) (sarama.ConsumerGroupHandler, error) {
	if cfg.Delivery != config.ExactlyOnce {
		opts.Producer = producer
		return consumer.New(opts)
	}
	return consumer.NewExactlyOnce(opts, consumer.TransactionOptions{
		Delivery:   transactional.Over(producer, tel.metrics.Transactions),
		MaxRecords: cfg.Transaction.MaxRecords,
		MaxWait:    cfg.Transaction.MaxWait,
		Fenced:     fenced,
	})
}

// exactlyOnceConfigs turn the consumer group's and producer's settings into
// exactly-once ones: offsets are committed by the transactions only, the group reads
// committed records and waits for offsets a transaction is still committing
// (KIP-447), and the producer is transactional.
func exactlyOnceConfigs(group, producer *sarama.Config, groupID string) (*sarama.Config, *sarama.Config) {
	group.Consumer.Offsets.AutoCommit.Enable = false
	group.Consumer.IsolationLevel = sarama.ReadCommitted
	return group, transactional.Config(producer, transactionalID(groupID))
}

// transactionalID is unique to this producer: under KIP-447 the group's metadata, not
// the ID, fences zombies, so it need not survive a restart. The group's name prefixes
// it, which is what the worker's TransactionalId ACL allows.
func transactionalID(groupID string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "worker"
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix) // never fails (crypto/rand)
	return groupID + "-" + host + "-" + hex.EncodeToString(suffix)
}
