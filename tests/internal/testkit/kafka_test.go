package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// What scripts/kafka/kafka.sh promises the suites, on a broker of this test's
// own (so two run at once): start is idempotent and prints the address, the
// version is 4.3.1, topics are auto-created with 3 partitions, a stop (twice)
// and a start keep records and committed offsets, clean removes the data.
func TestKafkaScript(t *testing.T) {
	k, err := StartKafka("../../..")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Clean()
	addr := k.Addr
	if err := k.Start(); err != nil || k.Addr != addr {
		t.Fatalf("a second start: %q (%v), want %q again", k.Addr, err, addr)
	}
	if log, err := os.ReadFile(filepath.Join(k.dataDir, "server.log")); err != nil || !strings.Contains(string(log), "Kafka version: 4.3.1") {
		t.Errorf("server.log does not report Kafka 4.3.1 (%v)", err)
	}

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	patientProducer(cfg) // the topic is created by this first send
	const topic, group = "kafka-script", "kafka-script-group"
	producer, err := sarama.NewSyncProducer([]string{k.Addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, offset, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("kept")})
	producer.Close()
	if err != nil {
		t.Fatal(err)
	}
	client, err := sarama.NewClient([]string{k.Addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := client.Partitions(topic); err != nil || len(ps) != 3 {
		t.Errorf("auto-created %s has partitions %v (%v), want 3", topic, ps, err)
	}
	commit(t, client, group, topic, offset+1)
	client.Close()

	for range 2 {
		if err := k.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
	}
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	client, err = sarama.NewClient([]string{k.Addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// The restarted broker answers before it leads its partitions again (NOT_LEADER
	// for a moment): read once it does.
	var records []*sarama.ConsumerMessage
	err = Poll(t.Context(), 30*time.Second, 200*time.Millisecond, func() error {
		var err error
		records, err = ReadToHighWater(t.Context(), client, topic, sarama.ReadUncommitted)
		return err
	})
	if err != nil || len(records) != 1 || string(records[0].Value) != "kept" {
		t.Errorf("after a restart %s holds %d records (%v), want the one written", topic, len(records), err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	offsets, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0}})
	if err != nil || offsets.GetBlock(topic, 0) == nil || offsets.GetBlock(topic, 0).Offset != offset+1 {
		t.Errorf("after a restart the group's committed offset is %+v (%v), want %d", offsets, err, offset+1)
	}

	k.Clean()
	if _, err := os.Stat(k.dataDir); !os.IsNotExist(err) {
		t.Errorf("clean left %s (%v)", k.dataDir, err)
	}
}

// commit commits offset for group on partition 0 of topic.
func commit(t *testing.T, client sarama.Client, group, topic string, offset int64) {
	t.Helper()
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		t.Fatal(err)
	}
	pom, err := om.ManagePartition(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	pom.MarkOffset(offset, "")
	om.Commit()
	if err := pom.Close(); err != nil {
		t.Fatal(err)
	}
	if err := om.Close(); err != nil {
		t.Fatal(err)
	}
}
