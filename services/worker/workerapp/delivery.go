package workerapp

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"time"

	"github.com/IBM/sarama"

	platform "github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
	"github.com/streamgate/streamgate/pkg/router"
)

// The DELIVERY modes (docs/exactly-once.md). The switch is service-wide: every route
// of the worker delivers the same way, since one transaction commits the outputs of
// all its partitions.
const (
	AtLeastOnce = "at-least-once"
	ExactlyOnce = "exactly-once"
)

var (
	delivery = platform.Var{Name: "DELIVERY", Default: AtLeastOnce}
	// A transaction commits once it holds this many records or, once this old, as soon
	// as no finished record waits to join it (exactly-once only; router.ExactlyOnceConfig).
	transactionMaxRecords = platform.Var{Name: "TRANSACTION_MAX_RECORDS", Default: strconv.Itoa(router.DefaultTransactionMaxRecords)}
	transactionMaxWait    = platform.Var{Name: "TRANSACTION_MAX_WAIT", Default: router.DefaultTransactionMaxWait.String()}
)

// maxTransactionRecords bounds TRANSACTION_MAX_RECORDS: every record of a transaction
// is held, with its output, until the commit.
const maxTransactionRecords = 10_000

// Delivery is how the worker delivers outputs.
type Delivery struct {
	Mode string // AtLeastOnce or ExactlyOnce
	// With ExactlyOnce, a transaction commits at MaxRecords records or MaxWait after its first.
	MaxRecords int
	MaxWait    time.Duration
}

func deliveryVars() []platform.Var {
	return []platform.Var{delivery, transactionMaxRecords, transactionMaxWait}
}

func readDelivery(r *platform.Reader) Delivery {
	return Delivery{
		Mode:       r.OneOf(delivery, AtLeastOnce, ExactlyOnce),
		MaxRecords: r.PositiveInt(transactionMaxRecords, maxTransactionRecords),
		MaxWait:    r.Duration(transactionMaxWait),
	}
}

// newDelivery returns cfg's delivery over producer, the loop that reads the producer's
// results (at-least-once; failed sees their errors) and what stops the delivery once
// the group's sessions are over. With exactly-once, failed is told when a transaction
// failed and the session must end.
func newDelivery(cfg Config, r *router.Router, producer sarama.AsyncProducer, refused *router.RefusedOutputs, failed func(error)) (router.Delivery, func(), func(), error) {
	if cfg.Delivery.Mode != ExactlyOnce {
		d := r.AtLeastOnce(producer)
		return d, func() { d.Dispatch(producer, failed) }, func() {}, nil
	}
	d, err := r.ExactlyOnce(router.ExactlyOnceConfig{
		Committer:  transactional.Over(producer, r.Metrics().Transactions),
		MaxRecords: cfg.Delivery.MaxRecords,
		MaxWait:    cfg.Delivery.MaxWait,
		Failed:     failed,
		Refused:    refused,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return d, nil, d.Close, nil
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
