package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// topics are the names one test uses, unique to it, so tests sharing a broker cannot
// see each other's records.
type topics struct {
	in, out, dlq, group string
}

func newTopics(t *testing.T, brokers string) topics {
	return newTopicsWithOutConfig(t, brokers, nil)
}

// newTopicsWithOutConfig is newTopics with topic configs for the out-topic.
func newTopicsWithOutConfig(t *testing.T, brokers string, outConfig map[string]*string) topics {
	t.Helper()
	return createTopics(t, brokers, 1, outConfig)
}

// newTopicsWithoutOut is newTopics without the out-topic: the worker, which never has
// topics created on demand, is refused every reply (retriably: the topic may be created
// yet) until createOutTopic.
func newTopicsWithoutOut(t *testing.T, brokers string) topics {
	t.Helper()
	prefix := fmt.Sprintf("e2e-%s-%06d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), rand.IntN(1_000_000))
	tp := topics{in: prefix + ".in", out: prefix + ".out", dlq: prefix + ".in.dlq", group: prefix + ".group"}
	admin := newAdmin(t, brokers)
	for _, name := range []string{tp.in, tp.dlq} {
		if err := admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
			t.Fatalf("create topic %s: %v", name, err)
		}
	}
	return tp
}

// createOutTopic creates tp's out-topic and waits until each of its partitions can be
// read (CreateTopic returns before that, and a reader opened too early fails).
func createOutTopic(t *testing.T, brokers string, tp topics) {
	t.Helper()
	if err := newAdmin(t, brokers).CreateTopic(tp.out, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("create topic %s: %v", tp.out, err)
	}
	waitFor(t, 30*time.Second, tp.out+" readable", func() error {
		consumer, err := sarama.NewConsumer(strings.Split(brokers, ","), clientConfig(brokers))
		if err != nil {
			return err
		}
		defer consumer.Close()
		for p := range int32(3) {
			pc, err := consumer.ConsumePartition(tp.out, p, sarama.OffsetOldest)
			if err != nil {
				return err
			}
			_ = pc.Close()
		}
		return nil
	})
}

// createTopics makes a test's topics, 3 partitions each, with replication factor rf.
func createTopics(t *testing.T, brokers string, rf int16, outConfig map[string]*string) topics {
	t.Helper()
	prefix := fmt.Sprintf("e2e-%s-%06d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), rand.IntN(1_000_000))
	tp := topics{in: prefix + ".in", out: prefix + ".out", dlq: prefix + ".in.dlq", group: prefix + ".group"}
	admin := newAdmin(t, brokers)
	for _, name := range []string{tp.in, tp.out, tp.dlq} {
		detail := &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: rf}
		if name == tp.out {
			detail.ConfigEntries = outConfig
		}
		if err := admin.CreateTopic(name, detail, false); err != nil {
			t.Fatalf("create topic %s: %v", name, err)
		}
	}
	return tp
}

// newAdmin returns a cluster admin client that is closed when the test ends.
func newAdmin(t *testing.T, brokers string) sarama.ClusterAdmin {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(strings.Split(brokers, ","), clientConfig(brokers))
	if err != nil {
		t.Fatalf("cluster admin: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	return admin
}

// env is the configuration both services get for these topics.
func (tp topics) env(brokers string) []string {
	return []string{
		"KAFKA_BROKERS=" + brokers,
		"KAFKA_IN_TOPIC=" + tp.in,
		"KAFKA_OUT_TOPIC=" + tp.out,
		"KAFKA_DLQ_TOPIC=" + tp.dlq,
		"KAFKA_GROUP_ID=" + tp.group,
		"LAG_GROUP_ID=" + tp.group, // the gateway reports the worker group's lag
		"SHUTDOWN_TIMEOUT=10s",
	}
}

func testClientConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_0_0_0
	cfg.ClientID = "streamgate-e2e"
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	return cfg
}

// produce writes one record straight to topic, as a foreign producer would, and
// returns where it landed.
func produce(t *testing.T, brokers, topic string, key, value []byte, headers ...sarama.RecordHeader) (partition int32, offset int64) {
	t.Helper()
	msg := &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(value), Headers: headers}
	if key != nil {
		msg.Key = sarama.ByteEncoder(key)
	}
	return send(t, brokers, clientConfig(brokers), msg)
}

// produceToPartition writes one record, without a key, to the given partition of topic
// and returns its offset.
func produceToPartition(t *testing.T, brokers, topic string, partition int32, value []byte, headers ...sarama.RecordHeader) int64 {
	t.Helper()
	cfg := clientConfig(brokers)
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	_, offset := send(t, brokers, cfg, &sarama.ProducerMessage{Topic: topic, Partition: partition, Value: sarama.ByteEncoder(value), Headers: headers})
	return offset
}

// send writes msg with a producer of its own, configured by cfg.
func send(t *testing.T, brokers string, cfg *sarama.Config, msg *sarama.ProducerMessage) (partition int32, offset int64) {
	t.Helper()
	producer, err := sarama.NewSyncProducer(strings.Split(brokers, ","), cfg)
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	defer producer.Close()
	partition, offset, err = producer.SendMessage(msg)
	if err != nil {
		t.Fatalf("produce to %s: %v", msg.Topic, err)
	}
	return partition, offset
}

// readUntil reads every partition of topic from the start until done says the records
// seen so far are enough, failing the test after within.
func readUntil(t *testing.T, brokers, topic string, within time.Duration, done func([]*sarama.ConsumerMessage) bool) []*sarama.ConsumerMessage {
	t.Helper()
	// What an exactly-once worker committed, once.
	return readUntilWith(t, brokers, topic, sarama.ReadCommitted, within, done)
}

// readUntilWith is readUntil with the reader's isolation level.
func readUntilWith(t *testing.T, brokers, topic string, isolation sarama.IsolationLevel, within time.Duration,
	done func([]*sarama.ConsumerMessage) bool,
) []*sarama.ConsumerMessage {
	t.Helper()
	cfg := clientConfig(brokers)
	cfg.Consumer.IsolationLevel = isolation
	client, err := sarama.NewClient(strings.Split(brokers, ","), cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer consumer.Close()
	// The broker once answered UNKNOWN_TOPIC_OR_PARTITION for a topic in use (CI, under
	// load): ask again for a while.
	var partitions []int32
	err = testkit.Poll(t.Context(), 30*time.Second, 100*time.Millisecond, func() error {
		var err error
		partitions, err = consumer.Partitions(topic)
		return err
	})
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	records := make(chan *sarama.ConsumerMessage)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	defer func() {
		close(stop)
		readers.Wait()
	}()
	for _, p := range partitions {
		// A partition just created may not be led yet by the broker its metadata names.
		var pc sarama.PartitionConsumer
		err := testkit.Poll(t.Context(), 30*time.Second, 100*time.Millisecond, func() error {
			var err error
			if pc, err = consumer.ConsumePartition(topic, p, sarama.OffsetOldest); err != nil {
				_ = client.RefreshMetadata(topic)
			}
			return err
		})
		if err != nil {
			t.Fatalf("consume %s/%d: %v", topic, p, err)
		}
		readers.Go(func() {
			defer pc.AsyncClose()
			for {
				select {
				case msg, ok := <-pc.Messages():
					if !ok {
						return
					}
					select {
					case records <- msg:
					case <-stop:
						return
					}
				case <-stop:
					return
				}
			}
		})
	}
	var seen []*sarama.ConsumerMessage
	timeout := time.After(within)
	for !done(seen) {
		select {
		case msg := <-records:
			seen = append(seen, msg)
		case <-timeout:
			t.Fatalf("reading %s: condition not met after %s with %d records", topic, within, len(seen))
		}
	}
	return seen
}

// countRecords is how many records topic holds: the sum of its partitions' high-water marks.
func countRecords(t *testing.T, topic string) int64 {
	t.Helper()
	client, err := sarama.NewClient([]string{suite.brokers}, testClientConfig())
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer client.Close()
	n, err := testkit.HighWaterMarks(client, topic)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
