package cluster

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// The topics of the charts' default values; in-topic's three partitions are
// what three worker replicas share.
const (
	inTopic  = "in-topic"
	outTopic = "out-topic"
	dlqTopic = "in-topic.dlq"
	groupID  = "streamgate-worker"
)

func (e *env) saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_0_0_0
	cfg.ClientID = "streamgate-cluster-e2e"
	cfg.Net.Proxy.Enable = true
	cfg.Net.Proxy.Dialer = e.dialer
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	return cfg
}

func (e *env) admin(t *testing.T) sarama.ClusterAdmin {
	t.Helper()
	admin, err := sarama.NewClusterAdmin([]string{e.kafka}, e.saramaConfig())
	if err != nil {
		t.Fatalf("cluster admin: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	return admin
}

func (e *env) createTopics(t *testing.T) {
	t.Helper()
	client, err := sarama.NewClient([]string{e.kafka}, e.saramaConfig())
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer client.Close()
	err = testkit.CreateTopics(t.Context(), client, sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, inTopic, outTopic, dlqTopic)
	if err != nil {
		t.Fatal(err)
	}
}

// replies counts every reply on out-topic by correlation id, from the start
// of the topic, until the test ends.
type replies struct {
	t      *testing.T
	mu     sync.Mutex
	counts map[string]int
	// toHighWater counts out-topic's replies per key up to its high-water mark,
	// for the duplicates.
	toHighWater func() (map[string]int, error)
}

func (e *env) watchReplies(t *testing.T) *replies {
	t.Helper()
	consumer, err := sarama.NewConsumer([]string{e.kafka}, e.saramaConfig())
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	partitions, err := consumer.Partitions(outTopic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", outTopic, err)
	}
	r := &replies{t: t, counts: map[string]int{}, toHighWater: func() (map[string]int, error) {
		client, err := sarama.NewClient([]string{e.kafka}, e.saramaConfig())
		if err != nil {
			return nil, err
		}
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return testkit.ReplyCounts(ctx, client, outTopic)
	}}
	var (
		wg        sync.WaitGroup
		consumers []sarama.PartitionConsumer
	)
	t.Cleanup(func() {
		for _, pc := range consumers {
			pc.AsyncClose()
		}
		wg.Wait()
		_ = consumer.Close()
	})
	for _, p := range partitions {
		pc, err := consumer.ConsumePartition(outTopic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("consume %s/%d: %v", outTopic, p, err)
		}
		consumers = append(consumers, pc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for msg := range pc.Messages() {
				res, err := messages.DecodeResponse(msg.Value)
				if err != nil {
					t.Errorf("undecodable reply at %s/%d@%d: %v", outTopic, p, msg.Offset, err)
					continue
				}
				r.mu.Lock()
				r.counts[res.CorrelationID]++
				r.mu.Unlock()
			}
		}()
	}
	return r
}

// waitAll waits until every id was answered at least once, or within passes;
// it returns how many ids are unanswered and how many replies were duplicates,
// counted on out-topic read to its high-water mark once all are answered (a
// duplicate written after the live reader saw every id still counts).
func (r *replies) waitAll(ids []string, within time.Duration) (missing, duplicates int) {
	deadline := time.Now().Add(within)
	for {
		missing, duplicates = 0, 0
		r.mu.Lock()
		for _, id := range ids {
			switch n := r.counts[id]; {
			case n == 0:
				missing++
			case n > 1:
				duplicates += n - 1
			}
		}
		r.mu.Unlock()
		if missing == 0 {
			counts, err := r.toHighWater()
			if err != nil {
				// Errorf: the test that owns r may not be the one calling.
				r.t.Errorf("read %s to its high-water mark: %v", outTopic, err)
				return 0, duplicates
			}
			return 0, testkit.Duplicates(counts, ids)
		}
		if time.Now().After(deadline) {
			return missing, duplicates
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// groupAssignment: in-topic partitions per member of the worker's group.
func (e *env) groupAssignment(t *testing.T, admin sarama.ClusterAdmin) map[string][]int32 {
	t.Helper()
	groups, err := admin.DescribeConsumerGroups([]string{groupID})
	if err != nil || len(groups) != 1 {
		t.Fatalf("describe group %s: %v", groupID, err)
	}
	assigned := map[string][]int32{}
	for id, m := range groups[0].Members {
		a, err := m.GetMemberAssignment()
		if err != nil {
			t.Fatalf("assignment of %s: %v", id, err)
		}
		if a != nil {
			assigned[m.ClientHost+" "+id] = a.Topics[inTopic]
		}
	}
	return assigned
}

// until polls cond every 500 ms for at most within.
func until(ctx context.Context, within time.Duration, cond func() bool) bool {
	return testkit.Poll(ctx, within, 500*time.Millisecond, func() error {
		if !cond() {
			return errNotYet
		}
		return nil
	}) == nil
}

var errNotYet = errors.New("not yet")
