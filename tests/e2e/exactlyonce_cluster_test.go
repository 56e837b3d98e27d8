package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// The broker coordinating the worker's transactions is SIGKILLed under gateway load on
// a 3-node cluster (replication factor 3 for the topics and the transaction state log,
// min.insync.replicas 2), in exactly-once mode: every acknowledged request has exactly
// one reply visible to read_committed, every topic read to its high-water mark.
func TestExactlyOnceTransactionCoordinatorKilledUnderLoad(t *testing.T) {
	cluster, err := testkit.StartKafka(suite.repoRoot, "KAFKA_NODES=3")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Clean)
	brokers := cluster.Addr
	p := pipelineOn(t, brokers, createTopics(t, brokers, 3, nil), 1, exactlyOnce)

	l, finish := startLoad(t, p.gateway, "coordinator", 4, 20000, 5*time.Millisecond)
	l.waitAcked(t, 300, 60*time.Second)
	id := transactionalIDOf(t, brokers, p.tp.group)
	victim := transactionCoordinatorOf(t, brokers, id)
	if err := cluster.KillNode(victim); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGKILLed node %d, the transaction coordinator of %q, with %d acknowledged", victim, id, len(l.ackedIDs()))
	l.waitAcked(t, 300, 120*time.Second)
	if err := cluster.StartNode(victim); err != nil {
		t.Fatal(err)
	}
	l.waitAcked(t, 300, 120*time.Second)
	finish()

	_, refused, failed := l.counts()
	c := countReplies(t, p, settle(t, p, l), sarama.ReadCommitted)
	if c.lost > 0 || c.twiceOrMore > 0 || c.strays > 0 || c.deadLetters > 0 {
		t.Errorf("coordinator killed: %s; want each acknowledged request answered once", c)
	}
	// Refusals (500) are allowed while the gateway's partitions have no leader; they
	// were never acknowledged, so they are not counted above.
	t.Logf("transaction coordinator killed under load: %s; %d refused, %d without answer", c, refused, failed)
}

// transactionalIDOf lists the cluster's transactions and returns the one of group's
// worker (its ID starts with the group's name), waiting until it has begun one.
func transactionalIDOf(t *testing.T, brokers, group string) string {
	t.Helper()
	// sarama's admin has ListTransactions, outside its ClusterAdmin interface.
	admin, ok := newAdmin(t, brokers).(interface {
		ListTransactions(states []string, producerIDs []int64, durationMs int64) ([]sarama.ListTransactionsResponseTransactionState, error)
	})
	if !ok {
		t.Fatal("sarama's cluster admin has no ListTransactions")
	}
	var id string
	waitFor(t, 60*time.Second, "the worker's transactional ID", func() error {
		txns, err := admin.ListTransactions(nil, nil, -1) // -1: no duration filter
		if err != nil {
			return err
		}
		for _, txn := range txns {
			if strings.HasPrefix(txn.TransactionalID, group+"-") {
				id = txn.TransactionalID
				return nil
			}
		}
		return errNotYet
	})
	return id
}

// transactionCoordinatorOf asks the cluster (FindCoordinator) which broker coordinates
// the transactions of id.
func transactionCoordinatorOf(t *testing.T, brokers, id string) int32 {
	t.Helper()
	client, err := sarama.NewClient(strings.Split(brokers, ","), testClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	coordinator, err := client.TransactionCoordinator(id)
	if err != nil {
		t.Fatalf("find the transaction coordinator of %q: %v", id, err)
	}
	return coordinator.ID()
}
